import { VmkitError } from '../errors/vmkit-error.js';
import { sleep } from './abort.js';

/** Options of {@link retryRetryable}. */
export interface RetryOptions {
  /** Ends the pauses between tries (`ABORTED`), and no try starts once it fired. */
  readonly signal?: AbortSignal;
  /** Tries in all (default 4; `Infinity` leaves the end to `budgetMs`, `retryIf` or the signal). */
  readonly attempts?: number;
  /** The first pause in ms, doubled after each try (default 250; 0 tries again at once). */
  readonly baseDelayMs?: number;
  /** The longest pause in ms: the doubling stops there (default: no cap). */
  readonly maxDelayMs?: number;
  /** Each pause is shortened by a random factor between 0.5 and 1, so callers spread out. */
  readonly jitter?: boolean;
  /**
   * Time in ms, from the first try, that the tries may take: when the time spent plus the next
   * pause would pass it, the last failure is thrown (default: no budget).
   */
  readonly budgetMs?: number;
  /**
   * Which failures are tried again (default {@link isRetryable}: every `retryable`
   * {@link VmkitError}, nothing else). Given, it decides alone, for any failure: a retryable one
   * with its own remedy (an unbindable host port that core retries on another port) can be left
   * to that remedy, and a failure that is no VmkitError (a file system race) can be retried.
   */
  readonly retryIf?: (error: unknown, attempt: number) => boolean;
  /**
   * Told of each failed try that will be tried again, before the pause; awaited, so it can
   * re-connect or re-create what the next try needs. Its own failure is thrown.
   */
  readonly onRetry?: (error: unknown, attempt: number) => void | Promise<void>;
}

/** Whether `error` is a `retryable` {@link VmkitError} (what {@link retryRetryable} retries by default). */
export function isRetryable(error: unknown): error is VmkitError {
  return VmkitError.is(error) && error.retryable;
}

/**
 * Runs `call`, and again while it fails with a `retryable` {@link VmkitError} (a lost or refused
 * connection to the hypervisor, a timeout) or what `retryIf` accepts: bounded tries with doubling
 * pauses (capped, with jitter, within a time budget when asked), within the signal. Only for steps
 * that are safe to repeat (reads, idempotent removals, a start that checks first); any other
 * failure, or the last try's, is thrown as it is.
 */
export async function retryRetryable<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 250;
  const retryIf = options.retryIf ?? isRetryable;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!retryIf(error, attempt) || attempt >= attempts || options.signal?.aborted) throw error;
      const pause = pauseBefore(attempt + 1, base, options);
      if (options.budgetMs !== undefined && Date.now() - started + pause > options.budgetMs) throw error;
      await options.onRetry?.(error, attempt);
      if (pause > 0) await sleep(pause, options.signal);
    }
  }
}

/** The pause before try `next` (the second try and on). */
function pauseBefore(next: number, base: number, options: RetryOptions): number {
  const doubled = base * 2 ** (next - 2);
  const capped = options.maxDelayMs === undefined ? doubled : Math.min(options.maxDelayMs, doubled);
  return options.jitter ? capped * (0.5 + Math.random() / 2) : capped;
}
