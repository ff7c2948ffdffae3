import { VmkitError } from '../errors/vmkit-error.js';
import { sleep } from './abort.js';

/** Options of {@link retryRetryable}. */
export interface RetryOptions {
  /** Ends the pauses between tries (`ABORTED`), and no try starts once it fired. */
  readonly signal?: AbortSignal;
  /** Tries in all (default 4). */
  readonly attempts?: number;
  /** The first pause in ms, doubled after each try (default 250). */
  readonly baseDelayMs?: number;
  /**
   * Narrows which retryable failures are tried again (default: every `retryable` one). A failure
   * with its own remedy, such as an unbindable host port that core retries on another port, is
   * left to that remedy.
   */
  readonly retryIf?: (error: VmkitError) => boolean;
  /** Told of each failed try that will be tried again. */
  readonly onRetry?: (error: VmkitError, attempt: number) => void;
}

/**
 * Runs `call`, and again while it fails with a `retryable` {@link VmkitError} (a lost or refused
 * connection to the hypervisor, a timeout): bounded tries with doubling pauses, within the signal.
 * Only for steps that are safe to repeat (reads, idempotent removals, a start that checks first);
 * any other failure, or the last try's, is thrown as it is.
 */
export async function retryRetryable<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (
        !VmkitError.is(error) ||
        !error.retryable ||
        options.retryIf?.(error) === false ||
        attempt >= attempts ||
        options.signal?.aborted
      )
        throw error;
      options.onRetry?.(error, attempt);
      await sleep(base * 2 ** (attempt - 1), options.signal);
    }
  }
}
