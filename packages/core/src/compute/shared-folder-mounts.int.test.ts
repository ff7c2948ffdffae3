import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { BoundSharedFolder } from '../model/shared-folder.js';
import { sharedFolderBoothook, withSharedFolderMounts } from './shared-folder-mounts.js';

// The user data of a node with shared folders as Debian's cloud-init 22.4 (the guest's version,
// installed on this host for Debian's /usr/bin/python3) splits it, and the boothook run by sh with
// `mount` and `mountpoint` replaced by recorders.

const dir = mkdtempSync(join(tmpdir(), 'vmkit-share-ud-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const READER = `
import json, sys
from cloudinit.user_data import UserDataProcessor
data = open(sys.argv[1], 'rb').read()
parts = [{'type': p.get_content_type(), 'body': p.get_payload(decode=True).decode()}
         for p in UserDataProcessor({}).process(data).walk() if not p.is_multipart()]
print(json.dumps(parts))
`;

function split(userData: string | Uint8Array): Array<{ type: string; body: string }> {
  const file = join(dir, `ud-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, userData);
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', READER, file], { encoding: 'utf8' }));
}

const folders: BoundSharedFolder[] = [
  { tag: 'vmkit0', hostPath: '/h/a', guestPath: '/mnt/data/deeper', readOnly: false },
  { tag: 'vmkit1', hostPath: '/h/b', guestPath: "/mnt/data it's", readOnly: true },
];
const hook = sharedFolderBoothook(folders, 'virtiofs');

describe('shared folder user data as cloud-init reads it', () => {
  it('is one boothook part alone, and the template user data plus the boothook otherwise', () => {
    expect(split(hook).map((p) => p.type)).toEqual(['text/cloud-boothook']);
    const config = '#cloud-config\nruncmd:\n  - echo hi\n--==vmkit-not-a-boundary==\n';
    const both = split(withSharedFolderMounts(config, hook));
    expect(both.map((p) => p.type)).toEqual(['text/cloud-config', 'text/cloud-boothook']);
    expect(both[0]?.body).toBe(config);
    expect(both[1]?.body).toBe(hook);
    const script = split(withSharedFolderMounts(new TextEncoder().encode('#!/bin/sh\necho x\n'), hook));
    expect(script.map((p) => p.type)).toEqual(['text/x-shellscript', 'text/cloud-boothook']);
  });

  it('nests a MIME message as it is and keeps gzip user data compressed', () => {
    const mime = [
      'Content-Type: multipart/mixed; boundary="user"',
      'MIME-Version: 1.0',
      '',
      '--user',
      'Content-Type: text/cloud-config',
      '',
      '#cloud-config',
      'hostname: x',
      '--user',
      'Content-Type: text/x-shellscript',
      '',
      '#!/bin/sh',
      'true',
      '--user--',
    ].join('\n');
    expect(split(withSharedFolderMounts(mime, hook)).map((p) => p.type)).toEqual([
      'text/cloud-config',
      'text/x-shellscript',
      'text/cloud-boothook',
    ]);
    const gz = split(withSharedFolderMounts(gzipSync('#cloud-config\nhostname: y\n'), hook));
    expect(gz.map((p) => p.type)).toEqual(['text/cloud-config', 'text/cloud-boothook']);
    expect(gz[0]?.body).toBe('#cloud-config\nhostname: y\n');
  });

  it('mounts parents first, read-only ones with -o ro, skips mounted paths and goes on after a failure', () => {
    const bin = join(dir, 'bin');
    const log = join(dir, 'mount.log');
    execFileSync('mkdir', ['-p', bin]);
    // mountpoint: /mnt/data it's is mounted already; mount: fails for vmkit0.
    writeFileSync(join(bin, 'mountpoint'), `#!/bin/sh\n[ "$2" = "/mnt/data it's" ]\n`);
    writeFileSync(join(bin, 'mount'), `#!/bin/sh\necho "$*" >> '${log}'\n[ "$5" != vmkit0 ]\n`);
    writeFileSync(join(bin, 'mkdir'), `#!/bin/sh\necho "mkdir $*" >> '${log}'\n`);
    for (const f of ['mountpoint', 'mount', 'mkdir']) chmodSync(join(bin, f), 0o755);
    const other = sharedFolderBoothook(
      [...folders, { tag: 'vmkit2', hostPath: '/h/c', guestPath: '/srv', readOnly: true }],
      'vboxsf',
    );
    const script = join(dir, 'hook.sh');
    writeFileSync(script, other);
    const ran = spawnSync('sh', [script], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
    expect(readFileSync(log, 'utf8')).toBe(
      [
        'mkdir -p /srv',
        '-t vboxsf -o ro vmkit2 /srv',
        'mkdir -p /mnt/data/deeper',
        '-t vboxsf -o rw vmkit0 /mnt/data/deeper',
        '',
      ].join('\n'),
    );
    expect([ran.status, ran.stderr]).toEqual([
      0,
      'vmkit: cannot mount shared folder vmkit0 on /mnt/data/deeper\n',
    ]);
  });
});
