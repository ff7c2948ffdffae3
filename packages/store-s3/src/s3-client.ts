import { S3Client } from '@aws-sdk/client-s3';
import type { ResolvedS3BlobStoreOptions } from './s3-blob-store-options.js';
import { BoundedBackoffRetryStrategy } from './s3-retry-strategy.js';
import { withoutNodeVersionWarning } from './sdk-node-version-warning.js';

/**
 * Builds the S3 client of a store from its options. Checksums are computed and validated only
 * when an operation requires them: the SDK's default for streamed bodies (aws-chunked framing
 * with a trailing checksum) is not understood by several S3-compatible servers, which then store
 * the framing as content or reject the upload. The store checks integrity itself (ETag/MD5).
 * The SDK's NodeVersionSupportWarning is not printed on Node 20 (see the README).
 */
export function createS3Client(options: ResolvedS3BlobStoreOptions): S3Client {
  return withoutNodeVersionWarning(
    () =>
      new S3Client({
        region: options.region,
        endpoint: options.endpoint,
        forcePathStyle: options.forcePathStyle,
        // A fresh object: the SDK annotates credentials objects, which fails on frozen ones.
        credentials: options.credentials && { ...options.credentials },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        retryStrategy: new BoundedBackoffRetryStrategy(options.retry),
        requestHandler: {
          connectionTimeout: options.timeouts.connectMs,
          socketTimeout: options.timeouts.idleMs,
          httpAgent: { keepAlive: true, maxSockets: 64 },
          httpsAgent: { keepAlive: true, maxSockets: 64 },
        },
      }),
  );
}
