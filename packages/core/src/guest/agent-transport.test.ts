import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { AgentRunDirs } from './agent-run-dir.js';
import { AgentTransport } from './agent-transport.js';
import { HostGuestAgent, type HostGuestAgentOptions } from './host-guest-agent.fixture.js';
import { rejection } from './rejection.fixture.js';

const root = mkdtempSync(join(tmpdir(), 'vmkit-agent-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let runRoot: string;
let n = 0;
beforeEach(() => {
  runRoot = join(root, `run-${n++}`);
  mkdirSync(runRoot);
});

// Three "guests": this host's tools (Debian's dash, coreutils, util-linux), busybox's applets
// first on PATH with busybox ash running the wrapper, as in the busybox test guest, and busybox with
// an agent that captures output (as qemu-ga does), so short scripts take the capture path.
const busyboxDir = join(root, 'busybox-bin');
mkdirSync(busyboxDir);
execFileSync('/usr/bin/busybox', ['--install', '-s', busyboxDir]);
const GUESTS: ReadonlyArray<readonly [string, HostGuestAgentOptions]> = [
  ['debian tools', {}],
  [
    'busybox',
    { env: { PATH: `${busyboxDir}:/usr/bin:/bin` }, programs: { '/bin/sh': ['/usr/bin/busybox', 'sh'] } },
  ],
  [
    'busybox, capturing agent',
    {
      env: { PATH: `${busyboxDir}:/usr/bin:/bin` },
      programs: { '/bin/sh': ['/usr/bin/busybox', 'sh'] },
      captureOutputBytes: 4 * 1024 * 1024,
    },
  ],
];
let guest: HostGuestAgentOptions = {};
const guestAgent = (options: HostGuestAgentOptions = {}) => new HostGuestAgent({ ...guest, ...options });

function transport(agent = guestAgent()) {
  return { agent, t: new AgentTransport(agent, { tempRoot: runRoot, killGraceMs: 300 }) };
}

/** The run directories under `runRoot`. */
const runDirs = () => readdirSync(runRoot);

/**
 * The files left in the run directories (waiting, bounded, for the background `rm` a capturing
 * wrapper leaves behind).
 */
async function leftFiles(): Promise<string[]> {
  const files = () => runDirs().flatMap((d) => readdirSync(join(runRoot, d)));
  for (let i = 0; i < 100 && files().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return files();
}

/** Whether a pid is gone (or a zombie nobody reaps: dead all the same). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

/** A function that runs a full garbage collection. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe.each(GUESTS)('on %s', (_name, options) => {
  beforeEach(() => {
    guest = options;
  });

  describe('AgentTransport.run', () => {
    it('returns exit codes 0, 3 and 127 with stdout and stderr apart, leaving nothing behind', async () => {
      const { agent, t } = transport();
      const ok = await t.run('echo out; echo err >&2', {});
      expect(ok).toMatchObject({
        exitCode: 0,
        stdout: 'out\n',
        stderr: 'err\n',
        truncated: false,
        transport: 'agent',
      });
      expect((await t.run('exit 3', {})).exitCode).toBe(3);
      const missing = await t.run(['/no/such/program-vmkit'], {});
      expect(missing.exitCode).toBe(127);
      expect(missing.stderr).toMatch(/program-vmkit/);
      expect((await t.run(['printf', '%s|', 'a b', "c'd"], {})).stdout).toBe("a b|c'd|");
      expect(await leftFiles()).toEqual([]);
      expect(runDirs()).toHaveLength(1);
      expect(agent.openHandles).toBe(0);
      await t.close();
      expect(runDirs()).toEqual([]);
    });

    it('keeps one private run directory across runs, and makes it again when the guest removed it', async () => {
      const { agent, t } = transport();
      expect((await t.run('echo one', {})).stdout).toBe('one\n');
      const [first] = runDirs();
      expect(first).toMatch(/^vmkit-runs-[0-9a-f]{16}$/);
      expect(statSync(join(runRoot, first as string)).mode & 0o777).toBe(0o700);
      expect((await t.run('echo two', {})).stdout).toBe('two\n');
      expect(runDirs()).toEqual([first]);
      // The guest emptied its /tmp: the next run finds its directory gone, runs once, in a new one.
      rmSync(join(runRoot, first as string), { recursive: true });
      const marker = join(root, `ran-${n}`);
      const again = await t.run(`echo x >>${marker}; echo three`, {});
      expect(again).toMatchObject({ exitCode: 0, stdout: 'three\n', stderr: '' });
      expect(readFileSync(marker, 'utf8')).toBe('x\n');
      const [second] = runDirs();
      expect(second).not.toBe(first);
      // Gone again before a run with stdin: the stdin file cannot be written, so the same.
      rmSync(join(runRoot, second as string), { recursive: true });
      expect((await t.run('cat', { stdin: 'four' })).stdout).toBe('four');
      const [third] = runDirs();
      expect([first, second]).not.toContain(third);
      // A link put in its place (after a reboot a guest user can take the name) is neither run in
      // nor written through: not for stdin either.
      rmSync(join(runRoot, third as string), { recursive: true });
      const elsewhere = join(root, `elsewhere-${n}`);
      mkdirSync(elsewhere);
      symlinkSync(elsewhere, join(runRoot, third as string));
      expect((await t.run('echo five', {})).stdout).toBe('five\n');
      const [fourth] = runDirs().filter((d) => d !== third);
      rmSync(join(runRoot, fourth as string), { recursive: true });
      symlinkSync(elsewhere, join(runRoot, fourth as string));
      expect((await t.run('cat', { stdin: 'secret' })).stdout).toBe('secret');
      expect(readdirSync(elsewhere)).toEqual([]);
      rmSync(join(runRoot, third as string));
      rmSync(join(runRoot, fourth as string));
      expect(await leftFiles()).toEqual([]);
      expect(agent.openHandles).toBe(0);
      expect(runDirs()).toHaveLength(1);
      await t.close();
      expect(runDirs()).toEqual([]);
    });

    it('never runs a script twice: one that removes its run directory and exits 125 is its own exit', async () => {
      const { t } = transport();
      const marker = join(root, `twice-${n}`);
      const script = `echo x >>${marker}; d=$(readlink /proc/self/fd/1); rm -rf "\${d%/*}"; exit 125`;
      const outcome = await t.run(script, {}).catch((e: unknown) => e);
      expect(readFileSync(marker, 'utf8')).toBe('x\n');
      // With the output captured the exit comes back; read from files, they went with the directory.
      if ('exitCode' in (outcome as object)) expect((outcome as { exitCode: number }).exitCode).toBe(125);
      else expect(outcome).toBeInstanceOf(VmkitError);
      expect((await t.run('echo after', {})).stdout).toBe('after\n');
      await t.close();
    });

    it('a timeout or abort is not held up by a listener that never lets output through', async () => {
      const { t } = transport();
      const t0 = Date.now();
      const error = await rejection(
        t.run('echo start; sleep 30', { timeoutMs: 1000, onOutput: () => new Promise<void>(() => {}) }),
      );
      expect(error.code).toBe('TIMEOUT');
      expect(Date.now() - t0).toBeLessThan(8000);
      const controller = new AbortController();
      const running = t.run('echo start; sleep 30', {
        signal: controller.signal,
        onOutput: () => {
          controller.abort();
          return new Promise<void>(() => {});
        },
      });
      expect((await rejection(running)).code).toBe('ABORTED');
      await t.close();
    });

    it('shares a run directory kept by its owner across transports, removed by the owner', async () => {
      const dirs = new AgentRunDirs(runRoot);
      const first = new AgentTransport(guestAgent(), { runDir: dirs.forNode('n1') });
      expect((await first.run('echo a', {})).stdout).toBe('a\n');
      await first.close();
      const second = new AgentTransport(guestAgent(), { runDir: dirs.forNode('n1') });
      await second.run('true', {});
      await second.close();
      const other = new AgentTransport(guestAgent(), { runDir: dirs.forNode('n2') });
      await other.run('true', {});
      await other.close();
      expect(runDirs()).toHaveLength(2);
      const opened: string[] = [];
      await dirs.removeAll(async (id) => {
        opened.push(id);
        return guestAgent();
      }, 5000);
      expect(opened.sort()).toEqual(['n1', 'n2']);
      expect(runDirs()).toEqual([]);
    });

    it('keeps a short command to a few agent round trips', async () => {
      const { agent, t } = transport();
      await t.run('true', {}); // the first run makes the run directory: one spawn more
      expect(agent.calls.spawn).toBe(agent.captureOutputBytes === undefined ? 4 : 2);
      const before = { ...agent.calls };
      const total = agent.totalCalls;
      await t.run('true', {});
      const calls = (name: string) => (agent.calls[name] ?? 0) - (before[name] ?? 0);
      if (agent.captureOutputBytes === undefined) {
        // the run directory checked (it cannot say so itself) + spawn + status checks + out/err
        // open/read/close + cleanup spawn and its status
        expect(calls('spawn')).toBe(3);
        expect(calls('openFile')).toBe(2);
        expect(calls('readFile')).toBe(2);
        expect(agent.totalCalls - total).toBeLessThanOrEqual(24);
      } else {
        // one spawn and its status checks: the wrapper hands the output back and cleans up
        expect(calls('spawn')).toBe(1);
        expect(calls('openFile')).toBe(0);
        expect(agent.totalCalls - total).toBeLessThanOrEqual(12);
      }
      expect(await leftFiles()).toEqual([]);
    });

    it('reads the files when the output may not fit what the agent captures', async () => {
      const { agent, t } = transport(guestAgent({ captureOutputBytes: 2048 }));
      const small = await t.run('printf abc; printf de >&2', { maxOutputBytes: 1000 });
      expect(small).toMatchObject({ stdout: 'abc', stderr: 'de', truncated: false });
      expect(agent.calls.openFile).toBeUndefined();
      const big = await t.run('head -c 3000 /dev/zero | tr "\\0" b', {});
      expect(big).toMatchObject({ stdout: 'b'.repeat(3000), truncated: false });
      expect(agent.calls.openFile).toBe(2);
      expect(await leftFiles()).toEqual([]);
    });

    it('feeds stdin from a string, bytes and a stream', async () => {
      const { t } = transport();
      expect((await t.run('cat', { stdin: 'héllo\n' })).stdout).toBe('héllo\n');
      const bytes = randomBytes(200_000);
      const hex = await t.run('sha256sum | cut -d" " -f1', { stdin: bytes });
      expect(hex.stdout.trim()).toBe(sha(bytes));
      const parts = Array.from({ length: 40 }, () => randomBytes(50_000));
      const streamed = await t.run('sha256sum | cut -d" " -f1', { stdin: Readable.from(parts) });
      expect(streamed.stdout.trim()).toBe(sha(Buffer.concat(parts)));
      async function* words() {
        yield new TextEncoder().encode('a');
        yield new TextEncoder().encode('b');
      }
      expect((await t.run('cat', { stdin: words() })).stdout).toBe('ab');
      expect(await leftFiles()).toEqual([]);
    });

    it('reads the exit code the wrapper wrote when the agent lost track of the process', async () => {
      class Forgetful extends HostGuestAgent {
        readonly forget = new Set<number>();
        override async spawn(...args: Parameters<HostGuestAgent['spawn']>) {
          const pid = await super.spawn(...args);
          if (args[0].args[1]?.includes('VMKIT_RUN=')) this.forget.add(pid); // the wrapper, as after an agent restart
          return pid;
        }
        override processStatus(pid: number, options?: Parameters<HostGuestAgent['processStatus']>[1]) {
          if (this.forget.has(pid)) return Promise.reject(new VmkitError('NOT_FOUND', `no process ${pid}`));
          return super.processStatus(pid, options);
        }
      }
      // (without capture: what a restarted agent captured is gone, only the files hold the output)
      const { captureOutputBytes: _, ...files } = guest;
      const { t } = transport(new Forgetful(files));
      expect(await t.run('sleep 0.3; echo hi; exit 4', {})).toMatchObject({ exitCode: 4, stdout: 'hi\n' });
      expect(await leftFiles()).toEqual([]);
    });

    it('keeps maxOutputBytes and says it truncated', async () => {
      const { t } = transport();
      const r = await t.run('printf 0123456789abcdef; printf xyz >&2', { maxOutputBytes: 4 });
      expect(r).toMatchObject({ stdout: '0123', stderr: 'xyz', truncated: true });
      // Without a listener, what is not kept is not read either.
      const { agent, t: t2 } = transport();
      const big = await t2.run('head -c 5000000 /dev/zero', { maxOutputBytes: 1000 });
      expect(big).toMatchObject({ truncated: true, exitCode: 0 });
      expect(big.stdout).toHaveLength(1000);
      expect(agent.calls.readFile ?? 0).toBeLessThanOrEqual(3);
    });

    it('streams 20 MiB through onOutput while keeping 1 MiB, in bounded memory', async () => {
      const { t } = transport(guestAgent({ maxChunkBytes: 256 * 1024 }));
      const gc = collector();
      gc();
      const base = process.memoryUsage().arrayBuffers;
      let seen = 0;
      let nextCheck = 0;
      let peak = 0;
      const hash = createHash('sha256');
      const r = await t.run('head -c 20971520 /dev/zero | tr "\\0" a; echo done >&2', {
        onOutput: (stream, chunk) => {
          if (stream !== 'stdout') return;
          seen += chunk.byteLength;
          hash.update(chunk);
          if (seen < nextCheck) return;
          nextCheck += 4 * 1024 * 1024;
          gc(); // what is still held, not garbage waiting for a collection
          peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
        },
      });
      expect(seen).toBe(20 * 1024 * 1024);
      expect(hash.digest('hex')).toBe(sha(Buffer.alloc(20 * 1024 * 1024, 'a')));
      expect(r.stdout).toHaveLength(1024 * 1024);
      expect(r).toMatchObject({ stderr: 'done\n', truncated: true, exitCode: 0 });
      expect(peak).toBeLessThan(8 * 1024 * 1024);
    });

    it('reads no further while onOutput is busy (back-pressure), then delivers every byte', async () => {
      const { t } = transport(guestAgent({ maxChunkBytes: 64 * 1024 }));
      let seen = 0;
      let calls = 0;
      let busy = false;
      let reentered = false;
      const r = await t.run('head -c 1048576 /dev/zero; echo done >&2', {
        maxOutputBytes: 1024,
        onOutput: async (stream, chunk) => {
          if (stream !== 'stdout') return;
          if (busy) reentered = true;
          busy = true;
          calls++;
          seen += chunk.byteLength;
          await new Promise((resolve) => setTimeout(resolve, 2));
          busy = false;
        },
      });
      expect(reentered).toBe(false);
      expect(calls).toBeGreaterThan(1);
      expect(seen).toBe(1048576);
      expect(r).toMatchObject({ exitCode: 0, stderr: 'done\n', truncated: true });
    });

    it('kills every process of the script on timeout and says TIMEOUT with the partial output', async () => {
      const { agent, t } = transport();
      // A child, a shell loop that never starts a program, a program in a session of its own
      // (out of any process group) and an orphan whose parent already exited.
      const script = [
        'echo $$',
        'sleep 60 & echo $!',
        '(while :; do :; done) & echo $!',
        'setsid sleep 61 & echo $!',
        "sh -c 'sleep 62 & echo $!'",
        'echo started >&2',
        'wait',
      ].join('\n');
      const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
      try {
        const error = await rejection(t.run(script, { timeoutMs: 1500 }));
        expect(error.code).toBe('TIMEOUT');
        const pids = String(error.details.stdout).trim().split('\n').map(Number);
        expect(pids).toHaveLength(5);
        for (const pid of pids) expect(pid).toBeGreaterThan(0);
        expect(error.details.stderr).toBe('started\n');
        expect(pids.filter((pid) => !gone(pid))).toEqual([]);
        expect(gone(bystander.pid as number)).toBe(false);
        expect(await leftFiles()).toEqual([]);
        expect(agent.openHandles).toBe(0);
      } finally {
        bystander.kill('SIGKILL');
      }
    });

    it('returns within a second of an abort, then kills the process', async () => {
      const { t } = transport();
      const controller = new AbortController();
      const pids: number[] = [];
      const running = t.run('echo $$; exec sleep 60', {
        signal: controller.signal,
        onOutput: (_s, chunk) => pids.push(Number(Buffer.from(chunk).toString().trim())),
      });
      while (pids.length === 0) await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      controller.abort();
      const error = await rejection(running);
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(error.code).toBe('ABORTED');
      expect(error.details.stdout).toBe(`${pids[0]}\n`);
      await t.close();
      expect(gone(pids[0] as number)).toBe(true);
      expect(await leftFiles()).toEqual([]);
    });

    it('runs as another user, and refuses an unknown one naming user', async () => {
      const { t } = transport();
      expect((await t.run('id -u', { user: 'nobody' })).stdout.trim()).toBe('65534');
      expect((await t.run(['id', '-u'], {})).stdout.trim()).toBe('0');
      const error = await rejection(t.run('id -u', { user: 'vmkit-nobody-here' }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.details.field).toBe('user');
      expect(await leftFiles()).toEqual([]);
    });

    it('passes env and cwd, refuses bad ones before reaching the guest', async () => {
      const { agent, t } = transport();
      const r = await t.run('printf "%s %s" "$A_B" "$(pwd)"', { env: { A_B: "x 'y' $z" }, cwd: root });
      expect(r.stdout).toBe(`x 'y' $z ${root}`);
      const missing = await rejection(t.run('pwd', { cwd: '/no/such/dir/vmkit' }));
      expect(missing.details.field).toBe('cwd');
      const before = agent.totalCalls;
      expect((await rejection(t.run('true', { env: { 'A-B': '1' } }))).details.field).toBe('env');
      expect((await rejection(t.run('true', { cwd: 'relative' }))).details.field).toBe('cwd');
      expect(agent.totalCalls).toBe(before);
    });
  });

  describe('AgentTransport copies', () => {
    it('copies a file in and out equal by SHA-256, with mode and owner, through a temporary name', async () => {
      const { t } = transport(guestAgent({ maxChunkBytes: 64 * 1024 }));
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const target = join(runRoot, 'file.bin');
      const parts = [data.subarray(0, 1000), data.subarray(1000)];
      const copied = await t.copyIn(Readable.from(parts), target, { mode: 0o640, owner: 'nobody' });
      expect(copied).toEqual({ bytes: data.length, sha256: sha(data), transport: 'agent' });
      expect(sha(readFileSync(target))).toBe(sha(data));
      expect(statSync(target).mode & 0o7777).toBe(0o640);
      expect(statSync(target).uid).toBe(65534);
      expect(readdirSync(runRoot)).toEqual(['file.bin']);
      const sink = new PassThrough();
      const chunks: Buffer[] = [];
      sink.on('data', (c: Buffer) => chunks.push(c));
      const out = await t.copyOut(target, sink, {});
      expect(out).toEqual({ bytes: data.length, sha256: sha(data), transport: 'agent' });
      expect(sha(Buffer.concat(chunks))).toBe(sha(data));
    });

    it('leaves nothing behind when a copy in fails', async () => {
      const { t } = transport();
      async function* failing() {
        yield randomBytes(100_000);
        throw new Error('source broke');
      }
      const target = join(runRoot, 'x');
      await expect(t.copyIn(failing(), target, { mode: 0o644 })).rejects.toThrow(/source broke/);
      mkdirSync(join(runRoot, 'dir'));
      const dir = await rejection(
        t.copyIn(Readable.from([Buffer.from('x')]), join(runRoot, 'dir'), { mode: 0o644 }),
      );
      expect(dir.details.field).toBe('guestPath');
      const owner = await rejection(
        t.copyIn(Readable.from([Buffer.from('x')]), target, { mode: 0o644, owner: 'vmkit-no-user' }),
      );
      expect(owner.details.field).toBe('owner');
      expect(readdirSync(runRoot)).toEqual(['dir']);
      expect(readdirSync(join(runRoot, 'dir'))).toEqual([]);
      const noDir = await rejection(
        t.copyIn(Readable.from([Buffer.from('x')]), join(runRoot, 'no/such/x'), { mode: 0o644 }),
      );
      expect(noDir).toMatchObject({ code: 'NOT_FOUND', details: { field: 'guestPath' } });
      const noFile = await rejection(t.copyOut(join(runRoot, 'no-such-file'), new PassThrough(), {}));
      expect(noFile).toMatchObject({ code: 'NOT_FOUND', details: { field: 'guestPath' } });
      expect((await rejection(t.copyIn(Readable.from([]), 'rel/path', { mode: 0o644 }))).details.field).toBe(
        'guestPath',
      );
      expect((await rejection(t.copyOut('rel/path', new PassThrough(), {}))).details.field).toBe('guestPath');
    });

    it('says CORRUPT and removes the temporary file when the guest got other bytes', async () => {
      class Flipping extends HostGuestAgent {
        override writeFile(handle: number, data: Uint8Array) {
          const copy = Uint8Array.from(data);
          copy[0] = (copy[0] ?? 0) ^ 1;
          return super.writeFile(handle, copy);
        }
      }
      const { t } = transport(new Flipping(guest));
      const target = join(runRoot, 'y');
      writeFileSync(target, 'old');
      const error = await rejection(
        t.copyIn(Readable.from([Buffer.from('new content')]), target, { mode: 0o644 }),
      );
      expect(error.code).toBe('CORRUPT');
      expect(readdirSync(runRoot)).toEqual(['y']);
      expect(readFileSync(target, 'utf8')).toBe('old');
      expect(existsSync(target)).toBe(true);
    });
  });
});
