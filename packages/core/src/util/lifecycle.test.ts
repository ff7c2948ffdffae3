import { describe, expect, it } from 'vitest';
import { isClosedError, VmkitError } from '../errors/vmkit-error.js';
import { sleep } from './abort.js';
import { Lifecycle } from './lifecycle.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Lifecycle', () => {
  it('opens once: concurrent callers share one attempt and its value', async () => {
    let opens = 0;
    const life = new Lifecycle('the thing', {
      open: async () => {
        opens++;
        await sleep(10);
        return { id: opens };
      },
    });
    const [a, b] = await Promise.all([life.open(), life.open()]);
    expect(a).toBe(b);
    expect(await life.open()).toBe(a);
    expect(opens).toBe(1);
    expect(life.state).toBe('open');
  });

  it('forgets a failed open, so the next call tries again', async () => {
    let opens = 0;
    const life = new Lifecycle('the thing', {
      open: async () => {
        opens++;
        if (opens === 1) throw new VmkitError('PROVIDER', 'daemon down');
        return opens;
      },
    });
    await expect(life.open()).rejects.toMatchObject({ code: 'PROVIDER' });
    expect(life.state).toBe('new');
    expect(await life.open()).toBe(2);
  });

  it('closes once: concurrent closes share one run of the close hook, with the opened value', async () => {
    const closedWith: unknown[] = [];
    const life = new Lifecycle('the thing', {
      open: async () => 'conn',
      close: async (value) => {
        await sleep(10);
        closedWith.push(value);
      },
    });
    await life.open();
    await Promise.all([life.close(), life.close()]);
    await life.close();
    expect(closedWith).toEqual(['conn']);
    expect(life.state).toBe('closed');
  });

  it('refuses use after close with the one closed error', async () => {
    const life = new Lifecycle('the libvirt client for test:///default');
    await life.close();
    expect(() => life.assertOpen()).toThrow('the libvirt client for test:///default is closed');
    const error = await life.open().catch((e: unknown) => e);
    expect(isClosedError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'CONFLICT', details: { reason: 'closed' } });
  });

  it('runs the close hook without an open hook, and is closed while closing', async () => {
    const gate = deferred<void>();
    let closes = 0;
    const life = new Lifecycle('the store', {
      close: async () => {
        closes++;
        await gate.promise;
      },
    });
    const closing = life.close();
    expect(life.state).toBe('closing');
    expect(life.closed).toBe(true);
    expect(() => life.assertOpen()).toThrow(/is closed/);
    gate.resolve();
    await closing;
    expect(closes).toBe(1);
  });

  it('a close during open aborts the open, waits for it, then releases what it made', async () => {
    const gate = deferred<void>();
    const events: string[] = [];
    const life = new Lifecycle('the provider', {
      open: async (signal) => {
        events.push('open');
        await gate.promise;
        events.push(signal.aborted ? 'open saw abort' : 'open done');
        return 'conn';
      },
      close: async (value) => {
        events.push(`close ${String(value)}`);
      },
    });
    const opening = life.open().catch((e: unknown) => e);
    await sleep(1);
    const closing = life.close();
    expect(life.signal.aborted).toBe(true);
    gate.resolve();
    await closing;
    expect(isClosedError(await opening)).toBe(true);
    expect(events).toEqual(['open', 'open saw abort', 'close conn']);
  });

  it('does not run the close hook when the interrupted open failed (it released its own work)', async () => {
    let closes = 0;
    const life = new Lifecycle('the provider', {
      open: async (signal) => {
        await sleep(5);
        if (signal.aborted) throw new VmkitError('ABORTED', 'open aborted');
        return 'conn';
      },
      close: async () => {
        closes++;
      },
    });
    const opening = life.open().catch((e: unknown) => e);
    await life.close();
    expect(isClosedError(await opening)).toBe(true);
    expect(closes).toBe(0);
  });

  it('keeps a failed close hook as the outcome of every close', async () => {
    const life = new Lifecycle('the thing', {
      close: async () => {
        throw new VmkitError('PROVIDER', 'close failed');
      },
    });
    await expect(life.close()).rejects.toMatchObject({ message: 'close failed' });
    await expect(life.close()).rejects.toMatchObject({ message: 'close failed' });
    expect(life.state).toBe('closed');
  });
});
