import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { RunScriptOptions, ScriptResult } from '@vmkit/core';
import { VmkitError } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeNode, useFakeService } from '../../test-support/fake-guest-service.js';
import { runCli } from '../../test-support/run-cli.js';

vi.mock('../runtime/open-service.js', () =>
  import('../../test-support/fake-guest-service.js').then((m) => m.fakeOpenServiceModule()),
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-exec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `vmkit --store DIR ARGS` (the store exists: the temporary directory). */
const vmkit = (args: string[], stdin?: Readable & { isTTY?: boolean }) =>
  runCli(['--store', dir, ...args], dir, {}, stdin);

const result = (over: Partial<ScriptResult> = {}): ScriptResult => ({
  exitCode: 0,
  stdout: '',
  stderr: '',
  truncated: false,
  durationMs: 5,
  transport: 'agent',
  ...over,
});

const bytes = (text: string) => new TextEncoder().encode(text);

async function readAll(input: RunScriptOptions['stdin']): Promise<string> {
  if (input === undefined || typeof input === 'string' || input instanceof Uint8Array) return String(input);
  const chunks: Buffer[] = [];
  for await (const c of input as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

describe('vmkit exec', () => {
  it('exits with the guest command exit code: 0, 3 and 127', async () => {
    for (const exitCode of [3, 127, 0]) {
      useFakeService([fakeNode('web-1a2b')], { run: async () => result({ exitCode }) });
      const run = await vmkit(['exec', 'web-1a2b', '--', 'sh', '-c', `exit ${exitCode}`]);
      expect(run).toMatchObject({ code: exitCode, stderr: '' });
    }
  });

  it('runs the argv as given on the node named (by name or id), with --user, --env, --cwd, --timeout, --transport', async () => {
    const fake = useFakeService([fakeNode('db-0001'), fakeNode('web-1a2b')], { run: async () => result() });
    const run = await vmkit([
      'exec',
      'web-1a2b',
      '-u',
      'app',
      '-e',
      'A=1',
      '--env',
      'B=x=y',
      '--cwd',
      '/srv',
      '--timeout',
      '30s',
      '--transport',
      'ssh',
      '--',
      'ls',
      '-la',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [id, argv, options] = (fake.calls[0]?.args ?? []) as [string, string[], RunScriptOptions];
    expect(id).toBe('id-web-1a2b');
    expect(argv).toEqual(['ls', '-la', '--json']); // after --, options are the command's
    expect(options).toMatchObject({
      user: 'app',
      env: { A: '1', B: 'x=y' },
      cwd: '/srv',
      timeoutMs: 30_000,
      transport: 'ssh',
    });
    expect(options.signal).toBeInstanceOf(AbortSignal);
    await vmkit(['exec', 'id-db-0001', '--', 'true']);
    expect(fake.calls[1]?.args[0]).toBe('id-db-0001');
  });

  it('streams stdout and stderr to its own as they arrive, apart and in order, before the command ends', async () => {
    let seenBeforeEnd = '';
    useFakeService([fakeNode('web-1a2b')], {
      run: async (_id, _script, options) => {
        options.onOutput?.('stdout', bytes('out 1\n'));
        options.onOutput?.('stderr', bytes('err 1\n'));
        options.onOutput?.('stdout', bytes('out 2\n'));
        await new Promise((r) => setImmediate(r));
        seenBeforeEnd = 'checked';
        return result({ exitCode: 0, stdout: 'out 1\nout 2\n', stderr: 'err 1\n' });
      },
    });
    const run = await vmkit(['exec', 'web-1a2b', '--', 'x']);
    expect(seenBeforeEnd).toBe('checked');
    expect(run.stdout).toBe('out 1\nout 2\n');
    expect(run.stderr).toBe('err 1\n');
  });

  it('passes standard input on as a stream when it is not a terminal, and not when it is or with --no-stdin', async () => {
    const fake = useFakeService([fakeNode('web-1a2b')], {
      run: async (_id, _script, options) => {
        const text = options.stdin === undefined ? '(none)' : await readAll(options.stdin);
        options.onOutput?.('stdout', bytes(text));
        return result();
      },
    });
    const piped = await vmkit(
      ['exec', 'web-1a2b', '--', 'cat'],
      Readable.from([Buffer.from('hello '), Buffer.from('guest')]),
    );
    expect(piped.stdout).toBe('hello guest');
    expect(typeof (fake.calls[0]?.args[2] as RunScriptOptions | undefined)?.stdin).toBe('object');
    const terminal = Object.assign(Readable.from([Buffer.from('typed')]), { isTTY: true });
    expect((await vmkit(['exec', 'web-1a2b', '--', 'cat'], terminal)).stdout).toBe('(none)');
    const off = await vmkit(
      ['exec', 'web-1a2b', '--no-stdin', '--', 'cat'],
      Readable.from([Buffer.from('x')]),
    );
    expect(off.stdout).toBe('(none)');
  });

  it('Ctrl-C aborts the run through its signal: exit 130', async () => {
    let aborted = false;
    useFakeService([fakeNode('web-1a2b')], {
      run: (_id, _script, options) =>
        new Promise((_resolve, reject) => {
          options.onOutput?.('stdout', bytes('started\n'));
          options.signal?.addEventListener('abort', () => {
            aborted = true;
            reject(new VmkitError('ABORTED', 'runScriptOnNode: aborted; the guest process was killed'));
          });
          setImmediate(() => process.emit('SIGINT', 'SIGINT'));
        }),
    });
    const run = await vmkit(['exec', 'web-1a2b', '--', 'sleep', '100']);
    expect(aborted).toBe(true);
    expect(run.code).toBe(130);
    expect(run.stdout).toBe('started\n');
    expect(run.stderr).toMatch(/SIGINT: stopping/);
    expect(run.stderr).toMatch(/^vmkit: runScriptOnNode: aborted/m);
  });

  it('--json prints the result instead of streaming, and still exits with its code', async () => {
    useFakeService([fakeNode('web-1a2b')], {
      run: async (_id, _script, options) => {
        options.onOutput?.('stdout', bytes('streamed'));
        return result({ exitCode: 3, stdout: 'kept', stderr: 'e' });
      },
    });
    const run = await vmkit(['exec', 'web-1a2b', '--json', '--', 'x']);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toEqual(result({ exitCode: 3, stdout: 'kept', stderr: 'e' }));
  });

  it.each([
    [
      'an unknown node',
      [fakeNode('web-1a2b')],
      undefined,
      3,
      /^vmkit: NODE: no node has the id or name web-9999 \(vmkit ls lists them\)\n$/,
    ],
    [
      'a stopped node',
      [fakeNode('web-9999', { status: 'stopped' })],
      undefined,
      4,
      /NODE: node web-9999 is stopped, not running/,
    ],
    [
      'no transport',
      [fakeNode('web-9999')],
      new VmkitError('UNSUPPORTED', 'runScriptOnNode: node web-9999 has no guest agent and no SSH login'),
      8,
      /no guest agent and no SSH login/,
    ],
    [
      'a timeout',
      [fakeNode('web-9999')],
      new VmkitError('TIMEOUT', 'runScriptOnNode: killed after 1s'),
      7,
      /killed after 1s/,
    ],
  ])('%s: one line, the exit code of its kind', async (_, nodes, error, code, message) => {
    const fake = useFakeService(nodes, { run: async () => Promise.reject(error) });
    const run = await vmkit(['exec', 'web-9999', '--', 'true']);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    if (error === undefined) expect(fake.calls).toEqual([]);
  });

  it('refuses bad flags before reaching a node (exit 2)', async () => {
    const fake = useFakeService([fakeNode('web-1a2b')]);
    for (const [args, message] of [
      [['-e', 'A'], /--env <NAME=VALUE>' argument 'A' is invalid\. must be NAME=VALUE/],
      [['-e', '1A=b'], /must be NAME=VALUE/],
      [['--timeout', 'soon'], /must be a duration/],
      [['--transport', 'telnet'], /Allowed choices are agent, ssh, auto/],
    ] as const) {
      const run = await vmkit(['exec', 'web-1a2b', ...args, '--', 'true']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect((await vmkit(['exec', 'web-1a2b'])).stderr).toMatch(/missing required argument 'command'/);
    expect(fake.calls).toEqual([]);
  });
});
