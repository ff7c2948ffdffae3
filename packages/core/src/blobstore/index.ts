/**
 * `@vmkit/core/blobstore`: the blob-store interface and its building blocks (name rules, errors,
 * abort helpers, the memory and filesystem stores) without the compute service, so a store such
 * as `@vmkit/store-s3` loads only what it needs (no zod, inversify or lru-cache).
 *
 * @packageDocumentation
 */

// The interface and the stores
export { checkBlobName, checkContainerName, checkListOptions, checkMetadata } from './blob-names.js';
export {
  type BlobBody,
  type BlobListItem,
  type BlobStore,
  type ListOptions,
  type ListPage,
  listAll,
  type PutBlobOptions,
  type StoredBlob,
} from './blob-store.js';
export { type FileSystemBlobStoreOptions, fileSystemBlobStore } from './file-system-blob-store.js';
export {
  type BlobStoreDriver,
  type CheckedListOptions,
  type ClosableBlobStore,
  guardBlobStore,
} from './guard-blob-store.js';
export { memoryBlobStore } from './memory-blob-store.js';

// Errors, aborts, concurrency, options and logging, as stores need them
export {
  classifyErrorCode,
  closedError,
  invalidArgument,
  isAbortError,
  isClosedError,
  toVmkitError,
  VmkitError,
  type VmkitErrorClass,
  type VmkitErrorCode,
  type VmkitErrorFault,
  type VmkitErrorOptions,
} from '../errors/vmkit-error.js';
export { redactText, redactUrl, type ScrubErrorOptions, scrubError } from '../errors/redact.js';
export { abortedError, raceAbort, sleep, throwIfAborted } from '../util/abort.js';
export { mapLimit, mapSettled } from '../util/concurrency.js';
export { checkInteger, type IntegerRule, integerOption } from '../util/integer-option.js';
export { type LogFields, type Logger, silentLogger } from '../util/logger.js';
