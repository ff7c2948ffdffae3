import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECONNECT, openWithBackoff, resolveReconnectPolicy } from './reconnect-policy.js';

const lost = () =>
  new VmkitError('PROVIDER', 'connection refused', { retryable: true, fault: 'environment' });

describe('reconnect policy', () => {
  it('defaults to 100 ms doubling to 2 s, for 30 s in all; false turns it off', () => {
    expect(resolveReconnectPolicy(undefined)).toEqual({
      initialDelayMs: 100,
      maxDelayMs: 2000,
      totalMs: 30_000,
    });
    expect(resolveReconnectPolicy(true)).toBe(DEFAULT_RECONNECT);
    expect(resolveReconnectPolicy(false)).toBe(false);
    expect(resolveReconnectPolicy({ totalMs: 5000 })).toEqual({
      initialDelayMs: 100,
      maxDelayMs: 2000,
      totalMs: 5000,
    });
  });

  it('names the bad field', () => {
    expect(() => resolveReconnectPolicy({ initialDelayMs: 0 })).toThrow(/reconnect.initialDelayMs/);
    expect(() => resolveReconnectPolicy({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(
      /reconnect.maxDelayMs/,
    );
    expect(() => resolveReconnectPolicy('yes' as never)).toThrow(/reconnect: must be a boolean/);
  });

  it('tries again with doubling pauses until it opens', async () => {
    const at: number[] = [];
    const t0 = Date.now();
    const value = await openWithBackoff(
      async () => {
        at.push(Date.now() - t0);
        if (at.length < 4) throw lost();
        return 'open';
      },
      { initialDelayMs: 20, maxDelayMs: 40, totalMs: 5000 },
      'here',
    );
    expect(value).toBe('open');
    expect(at).toHaveLength(4);
    // Pauses of 20, 40, 40 ms (capped): each try comes at least that long after the one before.
    expect((at[1] as number) - (at[0] as number)).toBeGreaterThanOrEqual(19);
    expect((at[3] as number) - (at[2] as number)).toBeGreaterThanOrEqual(39);
  });

  it('gives up after totalMs with a retryable error saying how long and how often it tried', async () => {
    let tries = 0;
    const error = await openWithBackoff(
      async () => {
        tries++;
        throw lost();
      },
      { initialDelayMs: 10, maxDelayMs: 20, totalMs: 100 },
      'libvirt at x',
    ).catch((e: unknown) => e);
    expect(tries).toBeGreaterThan(2);
    expect(error).toMatchObject({
      code: 'PROVIDER',
      retryable: true,
      message: expect.stringMatching(/gave up reconnecting to libvirt at x after \d+ tries/),
      details: { reconnectAttempts: tries },
    });
  });

  it('stops at once on a failure a retry cannot mend, and when told to stop', async () => {
    let tries = 0;
    const auth = new VmkitError('UNSUPPORTED', 'needs sasl');
    await expect(
      openWithBackoff(
        async () => {
          tries++;
          throw auth;
        },
        DEFAULT_RECONNECT,
        'x',
      ),
    ).rejects.toBe(auth);
    expect(tries).toBe(1);
    const stop = new AbortController();
    const pending = openWithBackoff(
      async () => {
        throw lost();
      },
      DEFAULT_RECONNECT,
      'x',
      stop.signal,
    );
    stop.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
