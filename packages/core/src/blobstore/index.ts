/**
 * `@vmkit/core/blobstore`: the blob stores: the interface a store implements, the memory and
 * filesystem stores, and the building blocks of a new store (name rules, the guard). It loads
 * without the compute service, so a store such as `@vmkit/store-s3` loads only what it needs (no
 * zod, inversify or lru-cache); the errors and helpers a store uses come from `@vmkit/core/spi`.
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
