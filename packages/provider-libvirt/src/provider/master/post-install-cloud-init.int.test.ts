import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postInstallScript } from '@vmkit/core/spi';
import { buildConfigDrive, readIso9660 } from '@vmkit/imaging';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'vmkit-post-ci-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// cloud-init's own readers (Debian's package, for Debian's /usr/bin/python3): the NoCloud files
// and the user-data processor that decides which part is a shell script run once per instance.
const READER = `
import json, sys
from cloudinit import util
from cloudinit.user_data import UserDataProcessor
d = util.pathprefix2dict(sys.argv[1] + '/', required=['meta-data', 'user-data'])
parts = [p.get_content_type() for p in UserDataProcessor({}).process(d['user-data']).walk()
         if not p.is_multipart()]
print(json.dumps({'meta': util.load_yaml(d['meta-data']), 'parts': parts}))
`;

describe('post-install drive as cloud-init reads it', () => {
  it('is a cidata drive whose meta-data carries vmkit-post-install and whose user data is one x-shellscript part', async () => {
    const image = await buildConfigDrive({
      format: 'nocloud',
      instanceId: 'vmkit-post-install-m1',
      userData: postInstallScript([{ name: 'hello', run: 'echo hello' }], { hypervisor: 'libvirt' }),
      metaData: { 'vmkit-post-install': true },
    });
    const iso = await readIso9660(image);
    expect(iso.volumeId).toBe('cidata');
    for (const f of iso.files)
      if (f.type === 'file') writeFileSync(join(dir, f.path), await iso.readFile(f.path));
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', READER, dir], { encoding: 'utf8' }));
    expect(out).toEqual({
      meta: { 'instance-id': 'vmkit-post-install-m1', 'vmkit-post-install': true },
      parts: ['text/x-shellscript'],
    });
  });
});
