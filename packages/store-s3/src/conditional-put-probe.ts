import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3ErrorCode, s3Status, toS3StoreError } from './s3-errors.js';

/**
 * Finds out whether a server honours `If-None-Match: *` on PUT (AWS S3 has since 2024; many
 * S3-compatible servers ignore it and overwrite): writes a scratch object twice with the
 * condition; a server that refuses the second write honours it. The scratch object is removed.
 */
export async function probeConditionalWrites(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<boolean> {
  const put = () =>
    client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomUUID(), IfNoneMatch: '*' }));
  try {
    try {
      await put();
    } catch (error) {
      if (s3Status(error) === 501 || s3ErrorCode(error) === 'NotImplemented') return false;
      throw toS3StoreError(error, { operation: 'probe conditional writes', bucket, key });
    }
    try {
      await put();
      return false;
    } catch (error) {
      const status = s3Status(error);
      if (status === 412 || status === 409) return true;
      if (status === 501 || s3ErrorCode(error) === 'NotImplemented') return false;
      throw toS3StoreError(error, { operation: 'probe conditional writes', bucket, key });
    }
  } finally {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {});
  }
}
