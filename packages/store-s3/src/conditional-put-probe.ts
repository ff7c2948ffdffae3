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

/**
 * Whether the server honours `If-None-Match: *` on writes, as configured or probed once (lazily,
 * on the first conditional put; concurrent callers share the probe, and a failed probe, e.g.
 * with the server down, is tried again next time).
 */
export class ConditionalWrites {
  readonly #probe: () => Promise<boolean>;
  #answer: Promise<boolean> | undefined;

  /** `setting` is the store's `conditionalWrites` option; `probe` asks the server. */
  constructor(setting: 'auto' | 'native' | 'unsupported', probe: () => Promise<boolean>) {
    this.#probe = probe;
    this.#answer = setting === 'auto' ? undefined : Promise.resolve(setting === 'native');
  }

  /** Whether conditional writes are honoured. */
  supported(): Promise<boolean> {
    this.#answer ??= this.#probe();
    const answer = this.#answer;
    answer.catch(() => {
      if (this.#answer === answer) this.#answer = undefined;
    });
    return answer;
  }
}
