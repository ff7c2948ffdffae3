/** The kinds of failure the SDK reports to a retry strategy. */
export type RetryErrorType = 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';

/** A retry token: which retry this is and how long to wait before it. */
export interface BackoffRetryToken {
  /** 0 for the first attempt, 1 for the first retry... */
  getRetryCount(): number;
  /** Milliseconds to wait before this attempt. */
  getRetryDelay(): number;
}

/** Settings of {@link BoundedBackoffRetryStrategy}. */
export interface BackoffSettings {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** First delay in ms, doubled each retry. */
  readonly baseDelayMs: number;
  /** Ceiling of one delay in ms. */
  readonly maxDelayMs: number;
  /** Random source in [0, 1) (for tests). */
  readonly random?: () => number;
}

/**
 * Retry strategy handed to the S3 client (it implements the SDK's `RetryStrategyV2` shape):
 * retries network faults, 5xx and throttling, never client errors (4xx), at most
 * `maxAttempts` attempts in all, waiting `random() * min(maxDelayMs, baseDelayMs * 2^retry)`
 * ("full jitter"), or the server's `Retry-After` hint when it is longer (still capped).
 */
export class BoundedBackoffRetryStrategy {
  readonly #settings: BackoffSettings;
  readonly #random: () => number;

  constructor(settings: BackoffSettings) {
    this.#settings = settings;
    this.#random = settings.random ?? Math.random;
  }

  /** Token of the first attempt. */
  async acquireInitialRetryToken(_scope: string): Promise<BackoffRetryToken> {
    return token(0, 0);
  }

  /** Token of the next attempt, or throws when the error is not retryable or attempts are spent. */
  async refreshRetryTokenForRetry(
    previous: BackoffRetryToken,
    info: { errorType: RetryErrorType; retryAfterHint?: Date },
  ): Promise<BackoffRetryToken> {
    const retry = previous.getRetryCount() + 1;
    if (info.errorType === 'CLIENT_ERROR') throw new Error('not retryable: client error');
    if (retry >= this.#settings.maxAttempts) throw new Error(`retries exhausted after ${retry} attempts`);
    return token(retry, this.delayFor(retry, info.retryAfterHint));
  }

  /** Nothing to record: the strategy keeps no shared budget. */
  recordSuccess(_token: BackoffRetryToken): void {}

  /** The delay before retry number `retry` (1-based). */
  delayFor(retry: number, retryAfterHint?: Date): number {
    const { baseDelayMs, maxDelayMs } = this.#settings;
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
    const jittered = Math.floor(this.#random() * ceiling);
    const hinted = retryAfterHint ? retryAfterHint.getTime() - Date.now() : 0;
    return Math.min(maxDelayMs, Math.max(jittered, hinted));
  }
}

function token(count: number, delay: number): BackoffRetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delay };
}
