import { describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { sleep } from './abort.js';
import { SingleFlight } from './single-flight.js';

describe('SingleFlight', () => {
  it('runs one task for concurrent callers of a key and forgets failures', async () => {
    const flights = new SingleFlight<string, number>();
    let runs = 0;
    const task = async () => {
      runs++;
      await sleep(20);
      return runs;
    };
    const values = await Promise.all(Array.from({ length: 10 }, () => flights.run('k', task)));
    expect(values).toEqual(Array(10).fill(1));
    expect(flights.size).toBe(0);
    await expect(flights.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await flights.run('k', task)).toBe(2);
  });

  it('aborts the task only when every waiter has gone, and fans progress out', async () => {
    const flights = new SingleFlight<string, string>();
    let taskSignal: AbortSignal | undefined;
    const task = async (signal: AbortSignal, progress: (e: { phase: 'build'; message: string }) => void) => {
      taskSignal = signal;
      progress({ phase: 'build', message: 'half' });
      await sleep(600_000, signal); // ends only by the abort, however slow the machine
      return 'done';
    };
    const a = new AbortController();
    const b = new AbortController();
    const seenA: string[] = [];
    const seenB: string[] = [];
    const first = flights.run('k', task, { signal: a.signal, onProgress: (e) => seenA.push(e.message) });
    const second = flights.run('k', task, { signal: b.signal, onProgress: (e) => seenB.push(e.message) });
    while (!taskSignal) await sleep(1); // the task runs
    a.abort();
    await expect(first).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
    expect(taskSignal?.aborted).toBe(false);
    b.abort();
    await expect(second).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
    expect(taskSignal?.aborted).toBe(true);
    expect(seenA).toEqual(['half']);
    expect(seenB).toEqual(['half']);
  });

  it('starts afresh for a caller that comes while an abandoned task is still cleaning up', async () => {
    const flights = new SingleFlight<string, string>();
    let runs = 0;
    const task = async (signal: AbortSignal) => {
      runs++;
      try {
        await sleep(runs === 1 ? 600_000 : 50, signal); // the first run ends only by the abort
        return `run ${runs}`;
      } catch (error) {
        await sleep(50); // slow clean-up after the abort
        throw error;
      }
    };
    const quitter = new AbortController();
    const first = flights.run('k', task, { signal: quitter.signal });
    while (runs === 0) await sleep(1); // the task runs
    quitter.abort();
    await expect(first).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
    expect(await flights.run('k', task)).toBe('run 2');
  });
});
