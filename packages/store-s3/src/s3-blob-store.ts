import type { S3Client } from '@aws-sdk/client-s3';
import { type ClosableBlobStore, guardBlobStore } from '@vmkit/core/blobstore';
import { ConditionalWrites, probeConditionalWrites } from './conditional-put-probe.js';
import { s3BlobDriver } from './s3-blob-driver.js';
import {
  type ResolvedS3BlobStoreOptions,
  resolveS3BlobStoreOptions,
  type S3BlobStoreOptions,
} from './s3-blob-store-options.js';
import { createS3Client } from './s3-client.js';
import { S3Containers } from './s3-containers.js';
import { S3KeyLayout } from './s3-keys.js';
import { UploadJanitor } from './upload-janitor.js';

/** A `BlobStore` on S3, with the S3 client, its options and its lifecycle. */
export interface S3BlobStore extends ClosableBlobStore {
  /** The validated options. */
  readonly options: ResolvedS3BlobStoreOptions;
  /** The S3 client in use. */
  readonly client: S3Client;
  /** Waits for background clean-ups (aborting failed multipart uploads) to finish or give up. */
  settle(): Promise<void>;
  /**
   * Stops background work and destroys the client if the store made it. Idempotent; later calls
   * of the store fail with the closed error (`CONFLICT`, `details.reason` `closed`).
   */
  close(): Promise<void>;
  /** Same as {@link S3BlobStore.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A `BlobStore` on an S3 bucket or an S3-compatible server, so that several hosts and
 * processes share one catalogue of masters. Container `c` is the key prefix `<prefix>c/`, with
 * an empty marker object at that key saying the container exists. Bodies larger than one part
 * stream through multipart uploads (bounded memory); reads stream too. Integrity: uploads send
 * `Content-MD5` or check the ETag; reads check the MD5 against the ETag where it is MD5-based.
 * Errors are `VmkitError`s (`NOT_FOUND`, `CONFLICT`, `STORE` with `details.reason` such as
 * `access-denied` or `throttled`, `TIMEOUT`, `ABORTED`, `UNSUPPORTED`, `CORRUPT`, each saying
 * whether a retry can help); transient faults are retried with bounded, jittered back-off.
 *
 * ```ts nocheck
 * const store = s3BlobStore({ bucket: 'my-masters', prefix: 'vmkit/' });
 * ```
 */
export function s3BlobStore(options: S3BlobStoreOptions): S3BlobStore {
  const resolved = resolveS3BlobStoreOptions(options);
  const client = resolved.client ?? createS3Client(resolved);
  const ownsClient = resolved.client === undefined;
  const { bucket } = resolved;
  const keys = new S3KeyLayout(resolved.prefix);
  const janitor = new UploadJanitor(client);
  const location = { client, bucket, keys, prefix: resolved.prefix };
  const conditional = new ConditionalWrites(resolved.conditionalWrites, () =>
    probeConditionalWrites(
      client,
      bucket,
      keys.probeKey(`${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`),
    ),
  );
  const driver = s3BlobDriver({
    ...location,
    options: resolved,
    containers: new S3Containers(location),
    conditional,
    janitor,
  });
  driver.close = async () => {
    janitor.close();
    await janitor.settle();
    if (ownsClient) client.destroy();
  };
  const store = guardBlobStore(`the S3 blob store on bucket ${bucket}`, driver);
  return { ...store, options: resolved, client, settle: () => janitor.settle() };
}
