import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { VmkitError } from '@vmkit/core/spi';
import { deletePrefix } from './s3-delete-prefix.js';
import { isNoSuchBucket, isS3NotFound, toS3StoreError } from './s3-errors.js';
import type { S3KeyLayout } from './s3-keys.js';

/** Where an S3 store lives: the client, the bucket, the key layout and the prefix. */
export interface S3Location {
  readonly client: S3Client;
  readonly bucket: string;
  readonly keys: S3KeyLayout;
  /** The store's key prefix, for messages. */
  readonly prefix: string;
}

/**
 * The containers of an S3 store: each is the empty marker object at its key prefix. Also the
 * HEAD of single keys, which needs the same care: a 404 to a HEAD has no body, so no code to
 * tell a missing key from a missing bucket.
 */
export class S3Containers {
  readonly #at: S3Location;

  constructor(at: S3Location) {
    this.#at = at;
  }

  /** Whether the object at `key` exists. */
  async head(key: string, operation: string): Promise<boolean> {
    const { client, bucket } = this.#at;
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      if (isS3NotFound(error)) return false;
      throw toS3StoreError(error, { operation, bucket, key });
    }
  }

  /** Whether the container exists; `NOT_FOUND` (`no-such-bucket`) when the bucket does not. */
  async exists(container: string, operation = 'containerExists'): Promise<boolean> {
    const key = this.#at.keys.containerPrefix(container);
    if (await this.head(key, operation)) return true;
    await this.#checkBucket(operation, key);
    return false;
  }

  /** Fails with {@link S3Containers.missing} unless the container exists. */
  async require(container: string, operation: string): Promise<void> {
    if (!(await this.exists(container, operation))) throw this.missing(container);
  }

  /** The `NOT_FOUND` error of a missing container. */
  missing(container: string): VmkitError {
    const { bucket, prefix } = this.#at;
    return new VmkitError('NOT_FOUND', `container ${container} does not exist in s3://${bucket}/${prefix}`, {
      details: { container, bucket },
    });
  }

  /** Writes the container's marker. */
  async create(container: string): Promise<void> {
    const { client, bucket, keys } = this.#at;
    const key = keys.containerPrefix(container);
    try {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array(0), ContentLength: 0 }),
      );
    } catch (error) {
      throw toS3StoreError(error, { operation: 'createContainer', bucket, key });
    }
  }

  /** Deletes the marker first (from then on the container is absent and refuses new blobs), then its blobs. */
  async delete(container: string, concurrency: number): Promise<void> {
    const { client, bucket, keys } = this.#at;
    const prefix = keys.containerPrefix(container);
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: prefix }));
    } catch (error) {
      if (!isS3NotFound(error))
        throw toS3StoreError(error, { operation: 'deleteContainer', bucket, key: prefix });
    }
    await deletePrefix(client, bucket, prefix, concurrency);
  }

  /**
   * Asks the bucket once (a one-key listing, which needs the same permission as a HEAD answering
   * 404) and fails with NOT_FOUND `no-such-bucket` when it is missing. Other failures of this
   * check leave the HEAD's answer (the key is absent) standing.
   */
  async #checkBucket(operation: string, key: string): Promise<void> {
    const { client, bucket } = this.#at;
    try {
      await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
    } catch (error) {
      if (isNoSuchBucket(error)) throw toS3StoreError(error, { operation, bucket, key });
    }
  }
}
