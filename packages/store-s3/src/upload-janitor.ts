import { AbortMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3ErrorCode, s3Status } from './s3-errors.js';

/** Settings of {@link UploadJanitor}. */
export interface UploadJanitorSettings {
  /** Attempts per upload (default 12). */
  readonly attempts?: number;
  /** First wait between attempts in ms, doubled each time (default 250). */
  readonly baseDelayMs?: number;
  /** Ceiling of one wait in ms (default 10,000). */
  readonly maxDelayMs?: number;
}

/**
 * Aborts multipart uploads that failed half-way, so their parts do not linger (and cost) on the
 * server. An abort that fails (the server is down, say) is retried in the background with
 * back-off, a bounded number of times; {@link UploadJanitor.settle} waits for all of them.
 */
export class UploadJanitor {
  readonly #client: S3Client;
  readonly #pending = new Set<Promise<void>>();
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  #closed = false;

  constructor(client: S3Client, settings: UploadJanitorSettings = {}) {
    this.#client = client;
    this.#attempts = settings.attempts ?? 12;
    this.#baseDelayMs = settings.baseDelayMs ?? 250;
    this.#maxDelayMs = settings.maxDelayMs ?? 10_000;
  }

  /** Uploads still being aborted. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Schedules the abort of an upload; never throws. */
  abort(bucket: string, key: string, uploadId: string): void {
    const work = this.#run(bucket, key, uploadId).finally(() => this.#pending.delete(work));
    this.#pending.add(work);
  }

  /** Waits until every scheduled abort has succeeded or given up. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Stops retrying: pending aborts make no further attempts. */
  close(): void {
    this.#closed = true;
  }

  async #run(bucket: string, key: string, uploadId: string): Promise<void> {
    for (let attempt = 0; attempt < this.#attempts && !this.#closed; attempt++) {
      try {
        await this.#client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
        );
        return;
      } catch (error) {
        // Already gone (aborted already, or completed and cleaned): nothing left to do.
        const status = s3Status(error);
        if (status === 404 || s3ErrorCode(error) === 'NoSuchUpload') return;
        // Refused for good (not supported, not allowed): retrying cannot help.
        if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) return;
        if (status === 501) return;
        const delay = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** attempt);
        await new Promise<void>((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  }
}
