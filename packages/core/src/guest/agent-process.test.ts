import { describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import type { GuestAgent, GuestProcessStatus } from '../spi/guest-agent.js';
import { waitForExit, waitForStatus } from './agent-process.js';

/** An agent whose one process is running for `runningLooks` status checks, then `final`. */
function fakeAgent(runningLooks: number, final: GuestProcessStatus) {
  const looks: number[] = [];
  const agent = {
    async processStatus(pid: number): Promise<GuestProcessStatus> {
      expect(pid).toBe(42);
      looks.push(performance.now());
      return looks.length > runningLooks ? final : { exited: false };
    },
  } as unknown as GuestAgent;
  return { agent, looks };
}

const text = (s: string) => new TextEncoder().encode(s);

describe('waitForStatus', () => {
  it('returns the final status with the output the agent captured', async () => {
    const { agent, looks } = fakeAgent(3, {
      exited: true,
      exitCode: 0,
      stdout: text('out'),
      stderr: text('err'),
    });
    const status = await waitForStatus(agent, 42);
    expect(looks).toHaveLength(4);
    expect(Buffer.from(status.stdout ?? []).toString()).toBe('out');
    expect(Buffer.from(status.stderr ?? []).toString()).toBe('err');
  });

  it('looks at once, then keeps a fixed pause when given one', async () => {
    const { agent, looks } = fakeAgent(3, { exited: true, exitCode: 0 });
    const started = performance.now();
    await waitForStatus(agent, 42, { pauseMs: 40 });
    expect(looks).toHaveLength(4);
    const gaps = looks.slice(1).map((t, i) => t - (looks[i] as number));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(38);
    // The paced default starts with pauses of a few milliseconds.
    const paced = fakeAgent(3, { exited: true, exitCode: 0 });
    const pacedStarted = performance.now();
    await waitForStatus(paced.agent, 42);
    expect(performance.now() - pacedStarted).toBeLessThan(performance.now() - started);
  });

  it('is TIMEOUT when the process outlives timeoutMs, naming the pid', async () => {
    const { agent } = fakeAgent(Number.POSITIVE_INFINITY, { exited: true });
    const error = await waitForStatus(agent, 42, { timeoutMs: 60, pauseMs: 10 }).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'TIMEOUT')).toBe(true);
    expect(String((error as Error).message)).toContain('42');
    // Named by the caller: its message and details, only for this wait's own time limit.
    const named = await waitForStatus(agent, 42, {
      timeoutMs: 30,
      pauseMs: 10,
      timeoutError: { message: 'the reset took too long', details: { node: 'n1' } },
    }).catch((e: unknown) => e);
    expect(named).toMatchObject({
      code: 'TIMEOUT',
      message: 'the reset took too long',
      details: { node: 'n1' },
    });
  });

  it('is ABORTED without a look when the signal has fired', async () => {
    const { agent, looks } = fakeAgent(0, { exited: true, exitCode: 0 });
    for (const pauseMs of [undefined, 20]) {
      const error = await waitForStatus(agent, 42, {
        signal: AbortSignal.abort(),
        ...(pauseMs ? { pauseMs } : {}),
      }).catch((e: unknown) => e);
      expect(VmkitError.is(error, 'ABORTED')).toBe(true);
    }
    expect(looks).toHaveLength(0);
  });
});

describe('waitForExit', () => {
  it('answers the exit code, or 128 plus the signal that ended the process', async () => {
    expect(await waitForExit(fakeAgent(1, { exited: true, exitCode: 3 }).agent, 42)).toBe(3);
    expect(await waitForExit(fakeAgent(0, { exited: true, signal: 9 }).agent, 42)).toBe(137);
  });
});
