import { VmkitError } from '../errors/vmkit-error.js';
import { retryRetryable } from '../util/retry.js';
import type { BlobStore } from './blob-store.js';

/** Options of {@link retryingBlobStore}. */
export interface StoreRetryOptions {
  /** Ends the pauses between tries at once (`ABORTED`); a call's own `signal` takes precedence. */
  readonly signal?: AbortSignal;
  /** Tries of one call in all (default 5). */
  readonly attempts?: number;
  /** The first pause in ms, doubled after each try, with jitter (default 50). */
  readonly baseDelayMs?: number;
}

/**
 * A view of `store` that tries a call again when it fails with a `retryable` {@link VmkitError}
 * (a throttled server, a lost connection, a folder another process pruned meanwhile): bounded
 * tries, backoff with jitter, within the signal. A streamed body cannot be sent twice: such puts
 * are tried once. A create-only put (`ifNoneMatch: '*'`) that conflicts on a later try after an
 * earlier one whose answer was lost succeeds when the blob holds exactly the bytes sent.
 */
export function retryingBlobStore(store: BlobStore, options: StoreRetryOptions = {}): BlobStore {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 50;
  const retry = <T>(call: () => Promise<T>, signal = options.signal): Promise<T> =>
    retryRetryable(call, { attempts, baseDelayMs: base, jitter: true, ...(signal ? { signal } : {}) });
  return {
    createContainer: (container) => retry(() => store.createContainer(container)),
    containerExists: (container) => retry(() => store.containerExists(container)),
    deleteContainer: (container) => retry(() => store.deleteContainer(container)),
    async putBlob(container, name, body, opts = {}) {
      if (typeof body !== 'string' && !(body instanceof Uint8Array))
        return store.putBlob(container, name, body, opts);
      let tries = 0;
      try {
        return await retry(() => {
          tries++;
          return store.putBlob(container, name, body, opts);
        }, opts.signal);
      } catch (error) {
        if (tries < 2 || opts.ifNoneMatch !== '*' || !VmkitError.is(error, 'CONFLICT')) throw error;
        const stored = await store.getBlob(container, name, opts);
        const sent = typeof body === 'string' ? Buffer.from(body) : body;
        if (stored && Buffer.from(await stored.bytes()).equals(sent)) return { etag: stored.etag };
        throw error;
      }
    },
    getBlob: (container, name, opts = {}) => retry(() => store.getBlob(container, name, opts), opts.signal),
    blobExists: (container, name) => retry(() => store.blobExists(container, name)),
    removeBlob: (container, name) => retry(() => store.removeBlob(container, name)),
    list: (container, opts) => retry(() => store.list(container, opts)),
    ...(store.watchBlob ? { watchBlob: store.watchBlob.bind(store) } : {}),
  };
}
