import { describe, expect, it } from 'vitest';
import { BoundedBackoffRetryStrategy } from './s3-retry-strategy.js';

describe('BoundedBackoffRetryStrategy', () => {
  const strategy = (maxAttempts = 4) =>
    new BoundedBackoffRetryStrategy({ maxAttempts, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 });

  it('retries transient, throttling and server errors up to maxAttempts in all', async () => {
    const s = strategy(3);
    let token = await s.acquireInitialRetryToken('s3');
    token = await s.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' });
    expect(token.getRetryCount()).toBe(1);
    token = await s.refreshRetryTokenForRetry(token, { errorType: 'SERVER_ERROR' });
    expect(token.getRetryCount()).toBe(2);
    await expect(s.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' })).rejects.toThrow(/exhausted/);
  });

  it('never retries client errors', async () => {
    const s = strategy();
    const token = await s.acquireInitialRetryToken('s3');
    await expect(s.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR' })).rejects.toThrow(
      /client error/,
    );
  });

  it('backs off exponentially with jitter, capped, honouring Retry-After up to the cap', () => {
    const s = strategy();
    expect([1, 2, 3, 4, 5].map((r) => s.delayFor(r))).toEqual([99, 199, 399, 799, 999]);
    const zero = new BoundedBackoffRetryStrategy({
      maxAttempts: 4,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      random: () => 0,
    });
    expect(zero.delayFor(3)).toBe(0);
    expect(zero.delayFor(1, new Date(Date.now() + 500))).toBeGreaterThan(400);
    expect(zero.delayFor(1, new Date(Date.now() + 60_000))).toBe(1000);
  });
});
