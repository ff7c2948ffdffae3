import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { BlobListItem, ListPage } from '@vmkit/core/blobstore';
import { toS3StoreError } from './s3-errors.js';

/** What {@link listPage} lists. */
export interface ListRequest {
  readonly client: S3Client;
  readonly bucket: string;
  /** The container's key prefix (its marker key, skipped). */
  readonly containerPrefix: string;
  /** Blob-name prefix. */
  readonly prefix: string;
  /** Only names after this one. */
  readonly marker?: string;
  /** Page size, 1-1000. */
  readonly maxKeys: number;
  readonly signal?: AbortSignal;
}

/**
 * One page of blobs in name order. Follows the server's continuation tokens as long as it takes
 * to fill the page (a server may return fewer keys than asked), and asks for one key more than
 * needed so that `nextMarker` is set only when more blobs really follow.
 */
export async function listPage(request: ListRequest): Promise<ListPage> {
  const { client, bucket, containerPrefix, maxKeys } = request;
  const items: BlobListItem[] = [];
  let token: string | undefined;
  let more = false;
  do {
    let response: ListObjectsV2CommandOutput;
    try {
      response = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: containerPrefix + request.prefix,
          StartAfter:
            token === undefined && request.marker !== undefined
              ? containerPrefix + request.marker
              : undefined,
          ContinuationToken: token,
          MaxKeys: Math.min(1000, maxKeys - items.length + 1),
        }),
        { abortSignal: request.signal },
      );
    } catch (error) {
      throw toS3StoreError(error, { operation: 'list', bucket, key: containerPrefix + request.prefix });
    }
    for (const object of response.Contents ?? []) {
      const key = object.Key ?? '';
      if (key.length <= containerPrefix.length) continue; // the container's marker
      if (items.length === maxKeys) {
        more = true;
        break;
      }
      items.push({
        name: key.slice(containerPrefix.length),
        size: object.Size ?? 0,
        etag: object.ETag,
        lastModified: object.LastModified,
      });
    }
    token = response.IsTruncated ? response.NextContinuationToken : undefined;
  } while (!more && token !== undefined);
  const last = items[items.length - 1];
  return more && last ? { items, nextMarker: last.name } : { items };
}
