import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  type BlobBody,
  type BlobStore,
  checkBlobName,
  checkContainerName,
  checkListOptions,
  checkMetadata,
  invalidArgument,
  type ListOptions,
  type ListPage,
  type PutBlobOptions,
  type StoredBlob,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/blobstore';
import { probeConditionalWrites } from './conditional-put-probe.js';
import {
  type ResolvedS3BlobStoreOptions,
  resolveS3BlobStoreOptions,
  type S3BlobStoreOptions,
} from './s3-blob-store-options.js';
import { createS3Client } from './s3-client.js';
import { deletePrefix } from './s3-delete-prefix.js';
import { downloadBlob } from './s3-download.js';
import { isNoSuchBucket, isS3NotFound, toS3StoreError } from './s3-errors.js';
import { S3KeyLayout } from './s3-keys.js';
import { listPage } from './s3-list.js';
import { uploadBody } from './s3-upload.js';
import { UploadJanitor } from './upload-janitor.js';

/** A `BlobStore` on S3, with the S3 client, its options and its lifecycle. */
export interface S3BlobStore extends BlobStore {
  /** The validated options. */
  readonly options: ResolvedS3BlobStoreOptions;
  /** The S3 client in use. */
  readonly client: S3Client;
  /** Waits for background clean-ups (aborting failed multipart uploads) to finish or give up. */
  settle(): Promise<void>;
  /** Stops background work and destroys the client if the store made it. Idempotent. */
  close(): Promise<void>;
  /** Same as {@link S3BlobStore.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

const HEAD_BYTES = 1024 * 1024;

/**
 * A `BlobStore` on an S3 bucket or an S3-compatible server, so that several hosts and
 * processes share one catalogue of masters. Container `c` is the key prefix `<prefix>c/`, with
 * an empty marker object at that key saying the container exists. Bodies larger than one part
 * stream through multipart uploads (bounded memory); reads stream too. Integrity: uploads send
 * `Content-MD5` or check the ETag; reads check the MD5 against the ETag where it is MD5-based.
 * Errors are `VmkitError`s (`NOT_FOUND`, `CONFLICT`, `STORE` with `details.reason` such as
 * `access-denied` or `throttled`, `TIMEOUT`, `ABORTED`, `UNSUPPORTED`, `CORRUPT`); transient
 * faults are retried with bounded, jittered back-off.
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
  let conditional: Promise<boolean> | undefined =
    resolved.conditionalWrites === 'auto'
      ? undefined
      : Promise.resolve(resolved.conditionalWrites === 'native');
  let closed = false;

  const head = async (key: string, operation: string): Promise<boolean> => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      if (isS3NotFound(error)) return false;
      throw toS3StoreError(error, { operation, bucket, key });
    }
  };
  /**
   * A 404 to a HEAD has no body, so no code to tell a missing key from a missing bucket: asks the
   * bucket once (a one-key listing, which needs the same permission as a HEAD answering 404) and
   * fails with NOT_FOUND `no-such-bucket` when it is missing. Other failures of this check leave
   * the HEAD's answer (the key is absent) standing.
   */
  const checkBucket = async (operation: string, key: string): Promise<void> => {
    try {
      await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
    } catch (error) {
      if (isNoSuchBucket(error)) throw toS3StoreError(error, { operation, bucket, key });
    }
  };
  const containerExists = async (container: string, operation = 'containerExists'): Promise<boolean> => {
    checkContainerName(container);
    const key = keys.containerPrefix(container);
    if (await head(key, operation)) return true;
    await checkBucket(operation, key);
    return false;
  };
  const missingContainer = (container: string) =>
    new VmkitError(
      'NOT_FOUND',
      `container ${container} does not exist in s3://${bucket}/${resolved.prefix}`,
      {
        details: { container, bucket },
      },
    );
  const requireContainer = async (container: string, operation: string): Promise<void> => {
    if (!(await containerExists(container, operation))) throw missingContainer(container);
  };
  const supportsConditionalWrites = (): Promise<boolean> => {
    conditional ??= probeConditionalWrites(
      client,
      bucket,
      keys.probeKey(`${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`),
    );
    conditional.catch(() => {
      conditional = undefined; // A failed probe (server down) is tried again next time.
    });
    return conditional;
  };
  const checkOpen = () => {
    if (closed) throw new VmkitError('STORE', `S3 blob store on ${bucket} is closed`);
  };

  const store: S3BlobStore = {
    options: resolved,
    client,
    async createContainer(container) {
      checkContainerName(container);
      checkOpen();
      const key = keys.containerPrefix(container);
      try {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array(0), ContentLength: 0 }),
        );
      } catch (error) {
        throw toS3StoreError(error, { operation: 'createContainer', bucket, key });
      }
    },
    containerExists: (container) => containerExists(container),
    async deleteContainer(container) {
      checkContainerName(container);
      checkOpen();
      const prefix = keys.containerPrefix(container);
      // The marker goes first: from then on the container is absent and refuses new blobs.
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: prefix }));
      } catch (error) {
        if (!isS3NotFound(error))
          throw toS3StoreError(error, { operation: 'deleteContainer', bucket, key: prefix });
      }
      await deletePrefix(client, bucket, prefix, resolved.concurrency);
    },
    async putBlob(container: string, name: string, body: BlobBody, opts: PutBlobOptions = {}) {
      checkContainerName(container);
      checkBlobName(name);
      checkMetadata(opts.metadata);
      checkOpen();
      throwIfAborted(opts.signal, 'upload');
      if (opts.ifNoneMatch !== undefined && opts.ifNoneMatch !== '*') {
        throw invalidArgument('ifNoneMatch', `must be '*' (got ${JSON.stringify(opts.ifNoneMatch)})`);
      }
      await requireContainer(container, 'putBlob');
      if (opts.ifNoneMatch === '*' && !(await supportsConditionalWrites())) {
        throw new VmkitError(
          'UNSUPPORTED',
          `S3 putBlob ${bucket}/${keys.blobKey(container, name)}: ifNoneMatch '*' needs a server that honours If-None-Match on writes, and this one does not`,
          { details: { bucket, container, name, option: 'ifNoneMatch' } },
        );
      }
      try {
        return await uploadBody({
          client,
          janitor,
          bucket,
          key: keys.blobKey(container, name),
          body,
          contentType: opts.contentType,
          metadata: opts.metadata,
          ifNoneMatch: opts.ifNoneMatch,
          signal: opts.signal,
          partSize: resolved.partSize,
          queueSize: resolved.queueSize,
        });
      } catch (error) {
        if (VmkitError.is(error, 'CONFLICT') && opts.ifNoneMatch === '*') {
          throw new VmkitError('CONFLICT', `blob ${name} already exists in ${container}`, {
            cause: error,
            details: { container, name, bucket },
          });
        }
        throw error;
      }
    },
    async getBlob(container, name, opts): Promise<StoredBlob | undefined> {
      checkContainerName(container);
      checkBlobName(name);
      checkOpen();
      throwIfAborted(opts?.signal, 'download');
      const found = await downloadBlob({
        client,
        bucket,
        key: keys.blobKey(container, name),
        name,
        signal: opts?.signal,
        headBytes: HEAD_BYTES,
        maxAttempts: resolved.retry.maxAttempts,
        baseDelayMs: resolved.retry.baseDelayMs,
      });
      // Absent: tell a missing blob (undefined) from a missing container (NOT_FOUND).
      if (found === undefined) await requireContainer(container, 'getBlob');
      return found;
    },
    async blobExists(container, name) {
      checkContainerName(container);
      checkBlobName(name);
      checkOpen();
      if (await head(keys.blobKey(container, name), 'blobExists')) return true;
      await requireContainer(container, 'blobExists');
      return false;
    },
    async removeBlob(container, name) {
      checkContainerName(container);
      checkBlobName(name);
      checkOpen();
      const key = keys.blobKey(container, name);
      const [exists] = await Promise.all([
        containerExists(container, 'removeBlob'),
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => {
          if (!isS3NotFound(error)) throw toS3StoreError(error, { operation: 'removeBlob', bucket, key });
        }),
      ]);
      if (!exists) throw missingContainer(container);
    },
    async list(container: string, opts: ListOptions = {}): Promise<ListPage> {
      checkContainerName(container);
      const maxKeys = checkListOptions(opts);
      checkOpen();
      if (opts.prefix !== undefined && typeof opts.prefix !== 'string') {
        throw invalidArgument('prefix', 'must be a string');
      }
      const [exists, page] = await Promise.all([
        containerExists(container, 'list'),
        listPage({
          client,
          bucket,
          containerPrefix: keys.containerPrefix(container),
          prefix: opts.prefix ?? '',
          marker: opts.marker,
          maxKeys,
        }),
      ]);
      if (!exists) throw missingContainer(container);
      return page;
    },
    settle: () => janitor.settle(),
    async close() {
      if (closed) return;
      closed = true;
      janitor.close();
      await janitor.settle();
      if (ownsClient) client.destroy();
    },
    [Symbol.asyncDispose]() {
      return store.close();
    },
  };
  return store;
}
