import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { compareEtag } from './etag-digest.js';

/** What a write found in place of its lost answer: the object's ETag and encryption. */
export interface RecoveredWrite {
  readonly ETag?: string;
  readonly ServerSideEncryption?: string;
  readonly SSECustomerAlgorithm?: string;
}

/** How many attempts the SDK made before `error` (1 when it was not retried). */
export function attemptsOf(error: unknown): number {
  return (error as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts ?? 1;
}

/**
 * After a write failed on a retry, tells whether an earlier attempt succeeded and only its answer
 * was lost (the connection broke after the server acted): the retry then fails although our
 * bytes are in place (`If-None-Match: *` gives 412, CompleteMultipartUpload finds no such upload).
 * HEADs the key; when its ETag matches the digests computed on the way (`'match'`, never
 * `'unverifiable'`), the write did succeed and its answer is returned. `undefined` otherwise:
 * the failure stands.
 */
export async function recoverLostAnswer(
  client: S3Client,
  target: { bucket: string; key: string; signal?: AbortSignal },
  digest: { md5: string; composite?: string },
  error: unknown,
): Promise<RecoveredWrite | undefined> {
  if (attemptsOf(error) < 2 || target.signal?.aborted) return undefined;
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }), {
      abortSignal: target.signal,
    });
    const verdict = compareEtag(head.ETag, digest, {
      serverSideEncryption: head.ServerSideEncryption,
      customerAlgorithm: head.SSECustomerAlgorithm,
    });
    return verdict === 'match' ? head : undefined;
  } catch {
    return undefined;
  }
}
