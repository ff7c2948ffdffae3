import { describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { retryRetryable } from './retry.js';

const lost = () => new VmkitError('PROVIDER', 'connection lost', { retryable: true });

/** A call that fails with the given errors in turn, then answers `'ok'`; counts its tries. */
function failing(...errors: unknown[]) {
  const call = async () => {
    call.tries++;
    const error = errors.shift();
    if (error !== undefined) throw error;
    return 'ok';
  };
  call.tries = 0;
  return call;
}

describe('retryRetryable', () => {
  it('tries a retryable failure again until it answers', async () => {
    const call = failing(lost(), lost());
    await expect(retryRetryable(call, { baseDelayMs: 1 })).resolves.toBe('ok');
    expect(call.tries).toBe(3);
  });

  it('throws the last failure once the tries are used up', async () => {
    const call = failing(lost(), lost(), lost());
    await expect(retryRetryable(call, { attempts: 2, baseDelayMs: 1 })).rejects.toThrow('connection lost');
    expect(call.tries).toBe(2);
  });

  it('never repeats a failure that is not retryable', async () => {
    const call = failing(new VmkitError('PROVIDER', 'refused'), lost());
    await expect(retryRetryable(call, { baseDelayMs: 1 })).rejects.toThrow('refused');
    expect(call.tries).toBe(1);
  });

  it('leaves a retryable failure that retryIf declines to its own remedy', async () => {
    const port = new VmkitError('CONFLICT', 'port taken', { retryable: true, details: { reason: 'port' } });
    const call = failing(port);
    const retryIf = (e: VmkitError) => e.details.reason !== 'port';
    await expect(retryRetryable(call, { baseDelayMs: 1, retryIf })).rejects.toBe(port);
    expect(call.tries).toBe(1);
  });

  it('stops retrying once the signal fires', async () => {
    const controller = new AbortController();
    const call = failing(lost(), lost());
    const retried = retryRetryable(call, {
      signal: controller.signal,
      baseDelayMs: 60_000,
      onRetry: () => controller.abort(),
    });
    await expect(retried).rejects.toMatchObject({ code: 'ABORTED' });
    expect(call.tries).toBe(1);
  });
});
