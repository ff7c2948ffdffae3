import {
  integerOption,
  invalidArgument,
  isRetryable,
  retryRetryable,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/spi';

/** How the client reconnects after losing the daemon (see {@link LibvirtClientOptions.reconnect}). */
export interface LibvirtReconnectOptions {
  /** The first pause between tries, in ms (default 100); doubled after each try. */
  readonly initialDelayMs?: number;
  /** The longest pause between tries, in ms (default 2,000). */
  readonly maxDelayMs?: number;
  /** How long to keep trying in all before giving up, in ms (default 30,000). */
  readonly totalMs?: number;
}

/** A reconnect policy with every field set. */
export type ResolvedReconnectPolicy = Required<LibvirtReconnectOptions>;

/** The default policy: 100 ms doubling to 2 s between tries, for 30 s in all. */
export const DEFAULT_RECONNECT: ResolvedReconnectPolicy = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 2000,
  totalMs: 30_000,
});

/** Checks the `reconnect` option, naming the bad field: `false`, or the policy with defaults filled in. */
export function resolveReconnectPolicy(
  value: boolean | LibvirtReconnectOptions | undefined,
): ResolvedReconnectPolicy | false {
  if (value === false) return false;
  if (value === undefined || value === true) return DEFAULT_RECONNECT;
  if (typeof value !== 'object' || value === null)
    throw invalidArgument('reconnect', 'must be a boolean or { initialDelayMs?, maxDelayMs?, totalMs? }');
  const initialDelayMs = integerOption('reconnect.initialDelayMs', value.initialDelayMs, 100, {
    min: 1,
    max: 60_000,
  });
  const maxDelayMs = integerOption('reconnect.maxDelayMs', value.maxDelayMs, Math.max(2000, initialDelayMs), {
    min: initialDelayMs,
    max: 600_000,
  });
  const totalMs = integerOption('reconnect.totalMs', value.totalMs, 30_000, { min: 0, max: 3_600_000 });
  return Object.freeze({ initialDelayMs, maxDelayMs, totalMs });
}

/**
 * Runs `open` until it succeeds, pausing between tries as `policy` says, while the failures are
 * `retryable` (a refused or lost connection, a handshake timeout). Gives up with the last failure,
 * its message saying how long and how often it tried, once `policy.totalMs` has passed; a final
 * failure (authentication, a closed client) ends it at once. `stop` ends the pauses (`ABORTED`).
 */
export async function openWithBackoff<T>(
  open: () => Promise<T>,
  policy: ResolvedReconnectPolicy,
  what: string,
  stop?: AbortSignal,
): Promise<T> {
  const started = Date.now();
  let attempt = 0;
  try {
    return await retryRetryable(
      () => {
        attempt++;
        return open();
      },
      {
        attempts: Number.POSITIVE_INFINITY,
        baseDelayMs: policy.initialDelayMs,
        maxDelayMs: policy.maxDelayMs,
        budgetMs: policy.totalMs,
        ...(stop ? { signal: stop } : {}),
      },
    );
  } catch (error) {
    if (!isRetryable(error)) throw error;
    throwIfAborted(stop, 'sleep');
    const elapsed = Date.now() - started;
    throw new VmkitError(
      error.code,
      `${error.message} (gave up reconnecting to ${what} after ${attempt} tries in ${Math.round(elapsed / 100) / 10} s)`,
      {
        cause: error,
        retryable: true,
        fault: error.fault,
        details: { ...error.details, reconnectAttempts: attempt, reconnectMs: elapsed },
      },
    );
  }
}
