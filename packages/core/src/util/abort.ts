import { VmkitError } from '../errors/vmkit-error.js';

/** Throws an `ABORTED` {@link VmkitError} when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'operation'): void {
  if (signal?.aborted) throw abortedError(signal, what);
}

/** The `ABORTED` error for a fired signal, keeping its reason as the cause. */
export function abortedError(signal: AbortSignal, what = 'operation'): VmkitError {
  const reason: unknown = signal.reason;
  if (VmkitError.is(reason)) return reason;
  return new VmkitError('ABORTED', `${what} aborted`, { cause: reason });
}

/** Resolves after `ms` milliseconds, or rejects with `ABORTED` as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal, 'sleep'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal as AbortSignal, 'sleep'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Races `promise` against `signal`: rejects with `ABORTED` when the signal fires first. The
 * underlying work is not stopped; use this to stop *waiting* for shared work.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortedError(signal, what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
