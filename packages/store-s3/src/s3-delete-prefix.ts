import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mapLimit, VmkitError } from '@vmkit/core/spi';
import { toS3StoreError } from './s3-errors.js';

/**
 * Deletes every object whose key starts with `prefix`, a listing page (up to 1,000 keys) at a
 * time: one DeleteObjects request per page, or, on servers that refuse it, single deletes with
 * at most `concurrency` in flight. Stops after `maxRounds` pages so a prefix being filled by
 * another writer cannot keep it busy forever.
 */
export async function deletePrefix(
  client: S3Client,
  bucket: string,
  prefix: string,
  concurrency: number,
  maxRounds = 100_000,
): Promise<void> {
  const context = { operation: 'deleteContainer', bucket, key: prefix };
  let batchDelete = true;
  for (let round = 0; round < maxRounds; round++) {
    let keys: string[];
    try {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000 }),
      );
      keys = (page.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k.startsWith(prefix));
    } catch (error) {
      throw toS3StoreError(error, context);
    }
    if (keys.length === 0) return;
    if (batchDelete) {
      let failed: Array<{ Key?: string; Code?: string; Message?: string }> | undefined;
      try {
        const result = await client.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        failed = result.Errors ?? [];
      } catch (error) {
        const mapped = toS3StoreError(error, context);
        if (mapped.details.reason !== 'not-implemented' && mapped.details.reason !== 'rejected') throw mapped;
        batchDelete = false; // The server refuses batch deletes: single deletes below.
      }
      if (failed && failed.length > 0) {
        const first = failed[0];
        throw new VmkitError(
          'STORE',
          `S3 deleteContainer ${bucket}/${first?.Key}: ${first?.Code} ${first?.Message ?? ''}`,
          {
            details: { ...context, key: first?.Key, s3Code: first?.Code, failed: failed.length },
          },
        );
      }
      if (failed) continue;
    }
    await mapLimit(keys, concurrency, async (Key) => {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
      } catch (error) {
        throw toS3StoreError(error, { ...context, key: Key });
      }
    });
  }
}
