import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { NodeMetadata } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeNic, fakeNode, useFakeService } from '../../test-support/fake-guest-service.js';
import { runCli } from '../../test-support/run-cli.js';

vi.mock('../runtime/open-service.js', () =>
  import('../../test-support/fake-guest-service.js').then((m) => m.fakeOpenServiceModule()),
);

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nTHE-SECRET-KEY-MATERIAL\n-----END OPENSSH PRIVATE KEY-----';

let dir: string;
let bin: string;
/** What the fake `ssh` saw: its argv, and the key file's mode and text while it ran. */
interface SshCall {
  argv: string[];
  keyMode?: string;
  keyText?: string;
  stdin: string;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-ssh-'));
  bin = join(dir, 'bin');
  await mkdir(bin);
  // A stand-in for the system's ssh, found on PATH as the real one is.
  await writeFile(
    join(bin, 'ssh'),
    `#!${process.execPath}
const fs = require('node:fs');
const argv = process.argv.slice(2);
const i = argv.indexOf('-i');
const key = i >= 0 ? argv[i + 1] : undefined;
const call = { argv, stdin: fs.readFileSync(0, 'utf8') };
if (key) {
  call.keyMode = (fs.statSync(key).mode & 0o777).toString(8);
  call.keyText = fs.readFileSync(key, 'utf8');
}
fs.writeFileSync(process.env.FAKE_SSH_CALL, JSON.stringify(call));
process.stdout.write('guest says hi\\n');
process.exit(Number(process.env.FAKE_SSH_EXIT ?? 0));
`,
  );
  await chmod(join(bin, 'ssh'), 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const callFile = () => join(dir, `call-${Math.random().toString(36).slice(2)}.json`);

async function vmkitSsh(args: string[], env: NodeJS.ProcessEnv = {}, stdin?: Readable) {
  const file = callFile();
  const run = await runCli(
    ['--store', dir, 'ssh', ...args],
    dir,
    { PATH: bin, FAKE_SSH_CALL: file, ...env },
    stdin,
  );
  const call = await readFile(file, 'utf8').then(
    (t) => JSON.parse(t) as SshCall,
    () => undefined,
  );
  return { ...run, call };
}

const forwarded = (over: Partial<NodeMetadata> = {}) =>
  fakeNode('web-1a2b', {
    network: { nics: [fakeNic(0, [{ guestPort: 22, hostPort: 20022, hostIp: '0.0.0.0' }])] },
    ...over,
  });

describe('vmkit ssh', () => {
  it('runs ssh with the stored key in a 0600 file removed afterwards, the forward of port 22 and the node-pinned host key; exits with its code', async () => {
    useFakeService([forwarded()], {
      credentials: async () => ({ user: 'vmkit', privateKey: KEY }),
    });
    const run = await vmkitSsh(
      ['web-1a2b', '--', 'uname', '-r'],
      { FAKE_SSH_EXIT: '3' },
      Readable.from(['input']),
    );
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toBe('guest says hi\n');
    const call = run.call as SshCall;
    expect(call.keyMode).toBe('600');
    expect(call.keyText).toBe(`${KEY}\n`);
    expect(call.stdin).toBe('input');
    const opt = (name: string) => call.argv[call.argv.indexOf(name) + 1];
    expect(opt('-p')).toBe('20022');
    expect(opt('-l')).toBe('vmkit');
    expect(call.argv).toContain('StrictHostKeyChecking=accept-new');
    expect(call.argv).toContain('HostKeyAlias=vmkit-id-web-1a2b');
    expect(call.argv).toContain(`UserKnownHostsFile=${join(dir, '.ssh', 'known_hosts')}`);
    expect(call.argv).toContain('IdentitiesOnly=yes');
    expect(call.argv.slice(call.argv.indexOf('--'))).toEqual(['--', '127.0.0.1', 'uname', '-r']);
    // The key file is gone, and the secret was never printed.
    await expect(stat(opt('-i') as string)).rejects.toThrow(/ENOENT/);
    expect(run.stdout + run.stderr).not.toContain('SECRET');
    expect((await stat(join(dir, '.ssh'))).mode & 0o777).toBe(0o700);
  });

  it('reaches a node without a forward at its address on a NIC the host routes to (not NAT)', async () => {
    const node = fakeNode('web-1a2b', {
      network: {
        nics: [fakeNic(0), fakeNic(1, [], { attachment: 'bridged', network: 'vmkit-test' })],
      },
      nicAddresses: [
        { slot: 0, mac: '52:54:00:00:00:01', addresses: ['10.0.2.15'], source: 'agent' },
        { slot: 1, mac: '52:54:00:00:00:02', addresses: ['fe80::1', '192.168.150.7'], source: 'lease' },
      ],
      login: { user: 'debian' },
    });
    useFakeService([node]);
    const run = await vmkitSsh(['web-1a2b']);
    expect(run.code, run.stderr).toBe(0);
    const call = run.call as SshCall;
    expect(call.argv.slice(call.argv.indexOf('--'))).toEqual(['--', '192.168.150.7']);
    expect(call.argv[call.argv.indexOf('-p') + 1]).toBe('22');
    expect(call.argv[call.argv.indexOf('-l') + 1]).toBe('debian');
    expect(call.argv).not.toContain('-i'); // no stored key: ssh uses the user's own
    expect(run.stderr).toMatch(/vmkit stored no key for node web-1a2b: ssh uses your own keys/);
  });

  it.each([
    [
      'a node with neither a forward of port 22 nor a routed address',
      [fakeNode('web-1a2b')],
      {},
      8,
      /NODE: node web-1a2b has no forward of guest port 22 .*-p 22/,
    ],
    [
      'a stopped node',
      [forwarded({ status: 'stopped' })],
      {},
      4,
      /NODE: node web-1a2b is stopped, not running/,
    ],
    [
      'an unknown node',
      [forwarded({ name: 'web-0000', id: 'x' })],
      {},
      3,
      /NODE: no node has the id or name web-1a2b/,
    ],
    ['no ssh client', [forwarded()], { PATH: '/nonexistent-vmkit-bin' }, 8, /there is no ssh on PATH/],
  ])('%s: one line, the exit code of its kind', async (_, nodes, env, code, message) => {
    useFakeService(nodes, { credentials: async () => ({ user: 'vmkit', privateKey: KEY }) });
    const run = await vmkitSsh(['web-1a2b'], env);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.call).toBeUndefined();
    expect(run.stderr).not.toContain('SECRET');
  });
});
