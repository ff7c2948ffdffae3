import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoopbackSshd, startLoopbackSshd } from '../../../core/src/guest/ssh/loopback-sshd.fixture.js';
import type { CliIo } from './cli-io.js';
import { runSsh, type SshSession } from './ssh-session.js';

// `vmkit ssh`'s session against a real OpenSSH server (the host's sshd on a loopback port) with
// the system's ssh client: the stored key logs in, the command's output and exit code come back,
// the host key is kept under the node's alias and a changed one is refused, and the key file
// is gone afterwards.

const exec = promisify(execFile);
let sshd: LoopbackSshd;
let dir: string;
let privateKey: string;
/** Where runSsh puts its key file (TMPDIR for this file): it must be empty after every run. */
let keyTmp: string;
const savedTmp = process.env.TMPDIR;

beforeAll(async () => {
  sshd = await startLoopbackSshd();
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-ssh-'));
  const key = join(dir, 'key');
  await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'vmkit-test', '-f', key]);
  privateKey = await readFile(key, 'utf8');
  await sshd.authorize((await readFile(`${key}.pub`, 'utf8')).trim());
  keyTmp = join(dir, 'tmp');
  await exec('mkdir', ['-m', '700', keyTmp]);
  process.env.TMPDIR = keyTmp;
}, 60_000);

afterAll(async () => {
  process.env.TMPDIR = savedTmp;
  await sshd?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs a session with piped streams; gives its exit code and what it printed. */
async function session(over: Partial<SshSession>, stdin?: string, withKey = true) {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: { out: Buffer[]; err: Buffer[] } = { out: [], err: [] };
  out.on('data', (d: Buffer) => chunks.out.push(d));
  err.on('data', (d: Buffer) => chunks.err.push(d));
  const io: CliIo = {
    stdout: out,
    stderr: err,
    ...(stdin !== undefined ? { stdin: Readable.from([stdin]) } : {}),
    env: process.env,
    cwd: dir,
  };
  const code = await runSsh(
    {
      nodeId: 'node-1',
      endpoint: { host: '127.0.0.1', port: sshd.port },
      user: 'root',
      ...(withKey ? { privateKey } : {}),
      knownHosts: join(dir, 'state', 'known_hosts'),
      command: [],
      ...over,
    },
    io,
  );
  return {
    code,
    stdout: Buffer.concat(chunks.out).toString(),
    stderr: Buffer.concat(chunks.err).toString(),
  };
}

describe('vmkit ssh (runSsh) against OpenSSH', () => {
  it("logs in with the stored key, passes the command's output, stdin and exit code, and leaves no key file", async () => {
    const r = await session({ command: ['echo', 'hello;', 'id -u;', 'exit 7'] });
    expect(r).toMatchObject({ code: 7, stdout: 'hello\n0\n' });
    expect(await readdir(keyTmp)).toEqual([]);
    const echoed = await session({ command: ['cat'] }, 'from stdin\n');
    expect([echoed.code, echoed.stdout]).toEqual([0, 'from stdin\n']);
    expect(await readdir(keyTmp)).toEqual([]);
  });

  it("keeps the host key under the node's alias on first contact, and refuses a changed key (exit 255)", async () => {
    expect((await session({ command: ['true'] })).code).toBe(0);
    // ssh-keygen finds it under the alias (the system's ssh_config may hash the names).
    const known = join(dir, 'state', 'known_hosts');
    const found = await exec('ssh-keygen', ['-F', 'vmkit-node-1', '-f', known]);
    expect(found.stdout).toContain(await sshd.hostKey());
    // Another node later given the same forwarded port has its own alias: accepted, kept apart.
    expect((await session({ nodeId: 'node-2', command: ['true'] })).code).toBe(0);
    await sshd.newHostKey();
    const refused = await session({ command: ['echo', 'ran'] });
    expect(refused.code).toBe(255);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/host key|HOST IDENTIFICATION/i);
    expect(await readdir(keyTmp)).toEqual([]);
  });

  it('without a stored key, a guest that wants one refuses the login (exit 255), nothing run', async () => {
    const r = await session({ nodeId: 'node-3', command: ['echo', 'ran'] }, undefined, false);
    expect([r.code, r.stdout]).toEqual([255, '']);
  });
});
