/**
 * `@vmkit/core/blobstore`: the blob-store interface and its building blocks (name rules, errors,
 * abort helpers, the memory and filesystem stores) without the compute service, so a store such
 * as `@vmkit/store-s3` loads only what it needs (no zod, inversify or lru-cache).
 *
 * @packageDocumentation
 */

export * from '../errors/vmkit-error.js';
export * from '../util/abort.js';
export * from '../util/concurrency.js';
export * from '../util/logger.js';
export * from './blob-names.js';
export * from './blob-store.js';
export * from './file-system-blob-store.js';
export * from './memory-blob-store.js';
