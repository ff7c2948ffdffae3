import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSshHostKeys } from './ssh-host-keys.js';

const exec = promisify(execFile);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-host-keys-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SSH host keys made on the host', () => {
  it('OpenSSH derives from each private key the public key line written beside it', async () => {
    // Several rounds: an RSA modulus or EC coordinate with a leading zero byte or the top bit set
    // must be written as OpenSSH writes it.
    for (let round = 0; round < 4; round++) {
      const keys = await makeSshHostKeys('root@node-1');
      expect(Object.keys(keys).sort()).toEqual(['ecdsa', 'ed25519', 'rsa']);
      for (const [type, pair] of Object.entries(keys)) {
        const file = join(dir, `ssh_host_${type}_key`);
        await writeFile(file, pair.privateKey, { mode: 0o600 });
        const { stdout } = await exec('ssh-keygen', ['-y', '-f', file]);
        expect(stdout.trim().split(' ').slice(0, 2)).toEqual(pair.publicKey.split(' ').slice(0, 2));
        expect(pair.publicKey.endsWith(' root@node-1')).toBe(true);
      }
      const { stdout: bits } = await exec('ssh-keygen', ['-l', '-f', join(dir, 'ssh_host_rsa_key')]);
      expect(bits).toMatch(/^3072 SHA256:/);
    }
  });

  it('makes only the types asked for, each pair new', async () => {
    const one = await makeSshHostKeys('c', ['ed25519']);
    const two = await makeSshHostKeys('c', ['ed25519']);
    expect(Object.keys(one)).toEqual(['ed25519']);
    expect(one.ed25519?.publicKey).not.toBe(two.ed25519?.publicKey);
    expect(await makeSshHostKeys('c', [])).toEqual({});
  });
});
