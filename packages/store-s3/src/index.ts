/**
 * `@vmkit/store-s3`: a vmkit `BlobStore` on Amazon S3 and S3-compatible servers, so that several
 * hosts and processes share one catalogue of masters.
 *
 * @packageDocumentation
 */

export { compareEtag, EtagDigest, type EtagVerdict } from './etag-digest.js';
export { type S3BlobStore, s3BlobStore } from './s3-blob-store.js';
export type {
  ResolvedS3BlobStoreOptions,
  S3BlobStoreOptions,
  S3Credentials,
  S3RetryOptions,
} from './s3-blob-store-options.js';
export { createS3Client } from './s3-client.js';
export { type S3ErrorContext, type S3FailureReason, toS3StoreError } from './s3-errors.js';
export {
  type BackoffRetryToken,
  type BackoffSettings,
  BoundedBackoffRetryStrategy,
  type RetryErrorType,
} from './s3-retry-strategy.js';
