import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { NodeMetadata } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeMemoryGuestNode } from '../../test-support/memory-guest-service.js';
import { runCli } from '../../test-support/run-cli.js';

// Every command opens core's compute service on the memory provider, whose guest agent runs
// real processes and files on this host: the CLI and core's guest layer together, end to end.
vi.mock('../runtime/open-service.js', () =>
  import('../../test-support/memory-guest-service.js').then((m) => m.memoryOpenServiceModule()),
);

let dir: string;
let node: NodeMetadata;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-guest-'));
  node = await makeMemoryGuestNode(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vmkit = (args: string[], stdin?: Readable) =>
  runCli(['--store', join(dir, 'store'), ...args], dir, {}, stdin);
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Resolves once `check` holds, polling every 20 ms, or fails after `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const exists = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pidIn = async (file: string) => Number((await readFile(file, 'utf8').catch(() => '')).trim());

describe('vmkit exec through core (memory provider, host-executing agent)', () => {
  it('passes exit codes 0, 3 and 127 through, with stdout and stderr apart', async () => {
    const three = await vmkit(['exec', node.name, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(three).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await vmkit(['exec', node.id, '--', 'true'])).code).toBe(0);
    expect((await vmkit(['exec', node.name, '--', 'vmkit-no-such-program'])).code).toBe(127);
  });

  it('echoes standard input back, and runs with --env and --cwd', async () => {
    const echoed = await vmkit(
      ['exec', node.name, '--', 'cat'],
      Readable.from([Buffer.from('hello '), Buffer.from('guest')]),
    );
    expect(echoed).toMatchObject({ code: 0, stdout: 'hello guest' });
    const env = await vmkit([
      'exec',
      node.name,
      '-e',
      'GREETING=hi there',
      '-w',
      dir,
      '--',
      'sh',
      '-c',
      'echo "$GREETING"; pwd',
    ]);
    expect(env.stdout).toBe(`hi there\n${dir}\n`);
  });

  it('Ctrl-C kills the guest process and exits 130 at once', async () => {
    const pidFile = join(dir, 'interrupted.pid');
    const running = vmkit(['exec', node.name, '--', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 100`]);
    await until(async () => (await pidIn(pidFile)) > 0, 10_000, 'the guest process started');
    const pid = await pidIn(pidFile);
    const interrupted = Date.now();
    process.emit('SIGINT', 'SIGINT');
    const run = await running;
    expect(Date.now() - interrupted).toBeLessThan(2000);
    expect(run.code).toBe(130);
    await until(async () => !exists(pid), 5000, `guest process ${pid} gone`);
  });

  it('--timeout kills the guest process: exit 7', async () => {
    const pidFile = join(dir, 'late.pid');
    const run = await vmkit([
      'exec',
      node.name,
      '--timeout',
      '500ms',
      '--',
      'sh',
      '-c',
      `echo $$ > ${pidFile}; exec sleep 100`,
    ]);
    expect(run.code).toBe(7);
    expect(run.stderr).toMatch(/^vmkit: .*/);
    const pid = await pidIn(pidFile);
    await until(async () => !exists(pid), 5000, `guest process ${pid} gone`);
  });
});

describe('vmkit cp through core (memory provider, host-executing agent)', () => {
  it('copies 1 MiB in and out equal by SHA-256, as --json reports it; - reads stdin and writes stdout', async () => {
    const data = randomBytes(1024 * 1024 + 17);
    const local = join(dir, 'random.bin');
    await writeFile(local, data);
    const guestPath = join(dir, 'in-guest.bin');
    const copyIn = await vmkit(['cp', local, `${node.name}:${guestPath}`, '--mode', '600', '--json']);
    expect(copyIn.code, copyIn.stderr).toBe(0);
    expect(JSON.parse(copyIn.stdout)).toMatchObject({
      bytes: data.length,
      sha256: sha256(data),
      transport: 'agent',
    });
    expect(sha256(await readFile(guestPath))).toBe(sha256(data));

    const back = join(dir, 'back.bin');
    const copyOut = await vmkit(['cp', `${node.id}:${guestPath}`, back, '--json']);
    expect(copyOut.code, copyOut.stderr).toBe(0);
    expect(JSON.parse(copyOut.stdout)).toMatchObject({
      destination: back,
      bytes: data.length,
      sha256: sha256(data),
    });
    expect(sha256(await readFile(back))).toBe(sha256(data));

    const piped = join(dir, 'piped.txt');
    expect(
      (await vmkit(['cp', '-', `${node.name}:${piped}`], Readable.from([Buffer.from('via stdin')]))).code,
    ).toBe(0);
    const out = await vmkit(['cp', `${node.name}:${piped}`, '-']);
    expect(out).toMatchObject({ code: 0, stdout: 'via stdin', stderr: '' });
  });

  it('a copy out of a missing guest file fails and leaves nothing at the destination', async () => {
    const target = join(dir, 'never');
    const run = await vmkit(['cp', `${node.name}:${join(dir, 'no-such-file')}`, target]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/^vmkit: /);
    expect((await readdir(dir)).filter((f) => f.includes('never'))).toEqual([]);
  });
});
