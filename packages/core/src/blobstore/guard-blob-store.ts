import { invalidArgument } from '../errors/vmkit-error.js';
import { Lifecycle } from '../util/lifecycle.js';
import { checkBlobName, checkContainerName, checkListOptions, checkMetadata } from './blob-names.js';
import type { BlobBody, BlobStore, ListOptions, ListPage, PutBlobOptions, StoredBlob } from './blob-store.js';
import { type StoreErrorContext, storeError } from './store-error.js';

/** List options after {@link guardBlobStore} checked them: the page size is always set. */
export interface CheckedListOptions extends ListOptions {
  /** Page size, 1-1000. */
  readonly maxKeys: number;
}

/**
 * A blob store's own operations, as {@link guardBlobStore} calls them: only with valid container
 * names, blob names, metadata and list options, and only while the store is open. A driver does
 * no argument checks of its own.
 */
export interface BlobStoreDriver {
  /** See {@link BlobStore.createContainer}. */
  createContainer(container: string): Promise<void>;
  /** See {@link BlobStore.containerExists}. */
  containerExists(container: string): Promise<boolean>;
  /** See {@link BlobStore.deleteContainer}. */
  deleteContainer(container: string): Promise<void>;
  /** See {@link BlobStore.putBlob}; `options.ifNoneMatch` is `'*'` or absent. */
  putBlob(
    container: string,
    name: string,
    body: BlobBody,
    options: PutBlobOptions,
  ): Promise<{ etag?: string }>;
  /** See {@link BlobStore.getBlob}. */
  getBlob(
    container: string,
    name: string,
    options: { signal?: AbortSignal },
  ): Promise<StoredBlob | undefined>;
  /** See {@link BlobStore.blobExists}. */
  blobExists(container: string, name: string): Promise<boolean>;
  /** See {@link BlobStore.removeBlob}. */
  removeBlob(container: string, name: string): Promise<void>;
  /** See {@link BlobStore.list}. */
  list(container: string, options: CheckedListOptions): Promise<ListPage>;
  /** See {@link BlobStore.watchBlob}; a driver without it leaves the store without it. */
  watchBlob?(container: string, name: string, signal: AbortSignal): Promise<void>;
  /** Releases what the store holds (clients, timers); called once, by the first `close()`. */
  close?(): Promise<void>;
}

/** A {@link BlobStore} that can be closed; after `close()` every call fails with `closedError`. */
export interface ClosableBlobStore extends BlobStore {
  /** Releases the store; later calls fail with the closed error (`CONFLICT`, reason `closed`). Idempotent. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The one runtime wrapper every vmkit blob store goes through (memory, filesystem, S3): it checks
 * container names, blob names, metadata, `ifNoneMatch` and list options once, refuses calls after
 * `close()` with the same error for every store, and closes the driver once. Every failure of the
 * driver leaves as a `VmkitError` naming the operation, container and blob (`storeError`),
 * including later reads of a blob it returned. `what` names the store in errors, e.g. `the S3
 * blob store on bucket b`.
 */
export function guardBlobStore(what: string, driver: BlobStoreDriver): ClosableBlobStore {
  const life = new Lifecycle(what, {
    close: async () => {
      await driver.close?.();
    },
  });
  const open = (container: unknown): void => {
    checkContainerName(container);
    life.assertOpen();
  };
  const openBlob = (container: unknown, name: unknown): void => {
    checkContainerName(container);
    checkBlobName(name);
    life.assertOpen();
  };
  // Every failure of the driver leaves as a VmkitError naming the call (see storeError).
  const run = async <T>(context: StoreErrorContext, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw storeError(error, what, context);
    }
  };
  const store: ClosableBlobStore = {
    async createContainer(container) {
      open(container);
      await run({ operation: 'createContainer', container }, () => driver.createContainer(container));
    },
    async containerExists(container) {
      open(container);
      return run({ operation: 'containerExists', container }, () => driver.containerExists(container));
    },
    async deleteContainer(container) {
      open(container);
      await run({ operation: 'deleteContainer', container }, () => driver.deleteContainer(container));
    },
    async putBlob(container, name, body, options = {}) {
      checkContainerName(container);
      checkBlobName(name);
      checkMetadata(options.metadata);
      if (options.ifNoneMatch !== undefined && options.ifNoneMatch !== '*') {
        throw invalidArgument('ifNoneMatch', `must be '*' (got ${JSON.stringify(options.ifNoneMatch)})`);
      }
      life.assertOpen();
      return run({ operation: 'putBlob', container, name }, () =>
        driver.putBlob(container, name, body, options),
      );
    },
    async getBlob(container, name, options = {}) {
      openBlob(container, name);
      const blob = await run({ operation: 'getBlob', container, name }, () =>
        driver.getBlob(container, name, options),
      );
      return blob && guardedReads(blob, what, { operation: 'getBlob (reading)', container, name });
    },
    async blobExists(container, name) {
      openBlob(container, name);
      return run({ operation: 'blobExists', container, name }, () => driver.blobExists(container, name));
    },
    async removeBlob(container, name) {
      openBlob(container, name);
      await run({ operation: 'removeBlob', container, name }, () => driver.removeBlob(container, name));
    },
    async list(container, options = {}) {
      checkContainerName(container);
      const maxKeys = checkListOptions(options);
      for (const field of ['prefix', 'marker'] as const) {
        if (options[field] !== undefined && typeof options[field] !== 'string') {
          throw invalidArgument(field, 'must be a string');
        }
      }
      life.assertOpen();
      return run({ operation: 'list', container }, () => driver.list(container, { ...options, maxKeys }));
    },
    close: () => life.close(),
    [Symbol.asyncDispose]: () => life.close(),
  };
  const watchBlob = driver.watchBlob?.bind(driver);
  if (watchBlob) {
    store.watchBlob = async (container, name, signal) => {
      checkContainerName(container);
      checkBlobName(name);
      // Closing wakes the caller (at once when closed already): its next call reports it.
      if (life.closed) return;
      await watchBlob(container, name, AbortSignal.any([signal, life.signal])).catch(() => undefined);
    };
  }
  return store;
}

/** A read blob whose later reads (the blob may be removed meanwhile) fail with store errors too. */
function guardedReads(blob: StoredBlob, what: string, context: StoreErrorContext): StoredBlob {
  const wrap = (error: unknown) => storeError(error, what, context);
  return {
    ...blob,
    stream: () => {
      try {
        return blob.stream();
      } catch (error) {
        throw wrap(error);
      }
    },
    bytes: () => blob.bytes().catch((error: unknown) => Promise.reject(wrap(error))),
    text: () => blob.text().catch((error: unknown) => Promise.reject(wrap(error))),
  };
}
