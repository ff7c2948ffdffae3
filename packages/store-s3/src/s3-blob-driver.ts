import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { BlobStoreDriver } from '@vmkit/core/blobstore';
import { throwIfAborted, VmkitError } from '@vmkit/core/spi';
import type { ConditionalWrites } from './conditional-put-probe.js';
import type { ResolvedS3BlobStoreOptions } from './s3-blob-store-options.js';
import type { S3Containers, S3Location } from './s3-containers.js';
import { downloadBlob } from './s3-download.js';
import { isS3NotFound, toS3StoreError } from './s3-errors.js';
import { listPage } from './s3-list.js';
import { uploadBody } from './s3-upload.js';
import type { UploadJanitor } from './upload-janitor.js';

/** Bytes of a blob read with its first GET before the rest streams. */
const HEAD_BYTES = 1024 * 1024;

/** What the S3 driver works with. */
export interface S3DriverParts extends S3Location {
  readonly options: ResolvedS3BlobStoreOptions;
  readonly containers: S3Containers;
  readonly conditional: ConditionalWrites;
  readonly janitor: UploadJanitor;
}

/**
 * The operations of the S3 blob store, for `guardBlobStore` (which checks names and options
 * and refuses calls after close). An absent blob tells a missing container (`NOT_FOUND`) from a
 * missing blob with one more request, made only on a miss.
 */
export function s3BlobDriver(parts: S3DriverParts): BlobStoreDriver {
  const { client, bucket, keys, options, containers } = parts;
  return {
    createContainer: (container) => containers.create(container),
    containerExists: (container) => containers.exists(container),
    deleteContainer: (container) => containers.delete(container, options.concurrency),
    async putBlob(container, name, body, opts) {
      throwIfAborted(opts.signal, 'upload');
      await containers.require(container, 'putBlob');
      const key = keys.blobKey(container, name);
      if (opts.ifNoneMatch === '*' && !(await parts.conditional.supported())) {
        throw new VmkitError(
          'UNSUPPORTED',
          `S3 putBlob ${bucket}/${key}: ifNoneMatch '*' needs a server that honours If-None-Match on writes, and this one does not`,
          { details: { bucket, container, name, option: 'ifNoneMatch' } },
        );
      }
      try {
        return await uploadBody({
          client,
          janitor: parts.janitor,
          bucket,
          key,
          body,
          contentType: opts.contentType,
          metadata: opts.metadata,
          ifNoneMatch: opts.ifNoneMatch,
          signal: opts.signal,
          partSize: options.partSize,
          queueSize: options.queueSize,
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
    async getBlob(container, name, opts) {
      throwIfAborted(opts.signal, 'download');
      const found = await downloadBlob({
        client,
        bucket,
        key: keys.blobKey(container, name),
        name,
        signal: opts.signal,
        headBytes: HEAD_BYTES,
        maxAttempts: options.retry.maxAttempts,
        baseDelayMs: options.retry.baseDelayMs,
      });
      if (found === undefined) await containers.require(container, 'getBlob');
      return found;
    },
    async blobExists(container, name) {
      if (await containers.head(keys.blobKey(container, name), 'blobExists')) return true;
      await containers.require(container, 'blobExists');
      return false;
    },
    async removeBlob(container, name) {
      const key = keys.blobKey(container, name);
      const [exists] = await Promise.all([
        containers.exists(container, 'removeBlob'),
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => {
          if (!isS3NotFound(error)) throw toS3StoreError(error, { operation: 'removeBlob', bucket, key });
        }),
      ]);
      if (!exists) throw containers.missing(container);
    },
    async list(container, opts) {
      const [exists, page] = await Promise.all([
        containers.exists(container, 'list'),
        listPage({
          client,
          bucket,
          containerPrefix: keys.containerPrefix(container),
          prefix: opts.prefix ?? '',
          marker: opts.marker,
          maxKeys: opts.maxKeys,
        }),
      ]);
      if (!exists) throw containers.missing(container);
      return page;
    },
  };
}
