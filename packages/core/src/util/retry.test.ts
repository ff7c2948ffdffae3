import { afterEach, describe, expect, it, vi } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import { isRetryable, retryRetryable } from './retry.js';

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
    const retryIf = (e: unknown) => isRetryable(e) && e.details.reason !== 'port';
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

  describe('pauses, budget and hooks (fake timers)', () => {
    afterEach(() => {
      vi.useRealTimers();
      vi.restoreAllMocks();
    });

    /** Runs `retryRetryable` on fake timers and records when (in fake ms) each try started. */
    async function timed(call: () => Promise<string>, options: Parameters<typeof retryRetryable>[1]) {
      vi.useFakeTimers();
      const starts: number[] = [];
      const started = Date.now();
      const result = retryRetryable(() => {
        starts.push(Date.now() - started);
        return call();
      }, options).then(
        (value): { value?: string; error?: unknown } => ({ value }),
        (error: unknown): { value?: string; error?: unknown } => ({ error }),
      );
      await vi.runAllTimersAsync();
      return { ...(await result), starts };
    }

    it('doubles the pause up to maxDelayMs', async () => {
      const call = failing(lost(), lost(), lost(), lost());
      const { value, starts } = await timed(call, { attempts: 5, baseDelayMs: 100, maxDelayMs: 300 });
      expect(value).toBe('ok');
      // Pauses 100, 200, 300 (not 400), 300 (not 800).
      expect(starts).toEqual([0, 100, 300, 600, 900]);
    });

    it('shortens each pause by a random factor between 0.5 and 1 with jitter', async () => {
      const random = vi.spyOn(Math, 'random').mockReturnValueOnce(0).mockReturnValueOnce(1);
      const call = failing(lost(), lost());
      const { starts } = await timed(call, { baseDelayMs: 100, jitter: true });
      expect(random).toHaveBeenCalledTimes(2);
      // 100 × 0.5, then 200 × 1.
      expect(starts).toEqual([0, 50, 250]);
    });

    it('throws the last failure when the next pause would pass the budget', async () => {
      const third = lost();
      const call = failing(lost(), lost(), third, lost());
      const { error, starts } = await timed(call, {
        attempts: Number.POSITIVE_INFINITY,
        baseDelayMs: 100,
        budgetMs: 650,
      });
      // Tries at 0, 100, 300; the next pause (400) would end at 700 > 650.
      expect(error).toBe(third);
      expect(starts).toEqual([0, 100, 300]);
    });

    it('retries failures that are no VmkitError when retryIf accepts them, and tells retryIf the attempt', async () => {
      const race = Object.assign(new Error('gone'), { code: 'ENOENT' });
      const seen: number[] = [];
      const call = failing(race, race);
      const { value } = await timed(call, {
        baseDelayMs: 0,
        retryIf: (error, attempt) => {
          seen.push(attempt);
          return (error as { code?: string }).code === 'ENOENT';
        },
      });
      expect(value).toBe('ok');
      expect(seen).toEqual([1, 2]);
    });

    it('by default never retries a failure that is no VmkitError', async () => {
      const call = failing(new Error('plain'));
      const { error } = await timed(call, { baseDelayMs: 1 });
      expect(error).toMatchObject({ message: 'plain' });
      expect(call.tries).toBe(1);
    });

    it('awaits onRetry before the next try, and throws its failure', async () => {
      const order: string[] = [];
      const call = failing(lost());
      const { value } = await timed(
        () => {
          order.push('try');
          return call();
        },
        {
          baseDelayMs: 0,
          onRetry: async (_error, attempt) => {
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            order.push(`reconnected after ${attempt}`);
          },
        },
      );
      expect(value).toBe('ok');
      expect(order).toEqual(['try', 'reconnected after 1', 'try']);

      const broken = failing(lost());
      const { error } = await timed(broken, {
        baseDelayMs: 0,
        onRetry: () => Promise.reject(new Error('cannot reconnect')),
      });
      expect(error).toMatchObject({ message: 'cannot reconnect' });
      expect(broken.tries).toBe(1);
    });
  });
});
