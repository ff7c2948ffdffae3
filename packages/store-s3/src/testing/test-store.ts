import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { type BlobStore, fileSystemBlobStore } from '@vmkit/core/blobstore';
import { type S3BlobStore, s3BlobStore } from '../s3-blob-store.js';
import type { S3BlobStoreOptions } from '../s3-blob-store-options.js';
import { withoutNodeVersionWarning } from '../sdk-node-version-warning.js';
import type { TestS3Server } from './s3-test-server.js';

/** A client for the test server, configured as the store configures its own. */
export function testClient(server: TestS3Server): S3Client {
  return withoutNodeVersionWarning(
    () =>
      new S3Client({
        endpoint: server.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: server.credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
  );
}

/** Creates a bucket with a fresh name on the test server and returns its name. */
export async function createTestBucket(
  server: TestS3Server,
  name = `vmkit-${randomUUID().slice(0, 8)}`,
): Promise<string> {
  const client = testClient(server);
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
  return name;
}

/** Options of a store on the test server (endpoint, path style, credentials). */
export function testStoreOptions(server: TestS3Server, bucket: string): S3BlobStoreOptions {
  return {
    bucket,
    endpoint: server.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: server.credentials,
  };
}

/** A store on a fresh bucket of the test server. */
export async function openTestStore(
  server: TestS3Server,
  options: Partial<S3BlobStoreOptions> = {},
): Promise<S3BlobStore> {
  const bucket = options.bucket ?? (await createTestBucket(server));
  return s3BlobStore({ ...testStoreOptions(server, bucket), ...options });
}

/** Two handles on one store, as two hosts sharing it open it. */
export type StorePair = () => Promise<[BlobStore, BlobStore]>;

/**
 * The stores two hosts can share, named for `it.each`: one filesystem store under `root`, and a
 * new bucket of the S3 test server (`server()` is read when the pair is opened).
 */
export function sharedStorePairs(server: () => TestS3Server, root: string): Array<[string, StorePair]> {
  return [
    ['the filesystem store', async () => [fileSystemBlobStore({ root }), fileSystemBlobStore({ root })]],
    [
      'the S3 test server',
      async () => {
        const bucket = await createTestBucket(server());
        return [await openTestStore(server(), { bucket }), await openTestStore(server(), { bucket })];
      },
    ],
  ];
}
