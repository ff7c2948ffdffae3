import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../blobstore/blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { FILE_CHUNK_BYTES } from '../util/file-chunks.js';
import { retryRetryable } from '../util/retry.js';

/** Digest and size of a file, read as a stream (a disk never sits in memory whole). */
export async function digestFile(
  path: string,
  signal?: AbortSignal,
): Promise<{ readonly sha256: string; readonly size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const stream = createReadStream(path, { highWaterMark: FILE_CHUNK_BYTES, ...(signal ? { signal } : {}) });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** A pass-through that counts bytes, reports them, and refuses more than `limit`. */
function counter(limit: number, onBytes: (bytes: number) => void, hash?: ReturnType<typeof createHash>) {
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > limit) {
        done(
          new VmkitError('CORRUPT', `shared master disk is larger than its record's ${limit} bytes`, {
            details: { rule: 'size' },
          }),
        );
        return;
      }
      hash?.update(chunk);
      onBytes(bytes);
      done(null, chunk);
    },
  });
}

/** Tries of one disk upload in all, and the first pause between them (doubled each try, at most 5 s). */
const UPLOAD_ATTEMPTS = 8;
const FIRST_UPLOAD_PAUSE_MS = 200;

/**
 * Uploads a file to the store as a stream, reporting bytes sent. A file can be read again, unlike
 * a stream: when a try fails with a `retryable` error (the store unreachable, a connection reset,
 * a server error) the whole file is sent again after a pause growing from 200 ms to 5 s, at most
 * {@link UPLOAD_ATTEMPTS} tries in all (about 20 s of pauses), within the signal.
 */
export async function uploadFile(
  store: BlobStore,
  container: string,
  name: string,
  path: string,
  size: number,
  options: {
    readonly signal: AbortSignal;
    readonly onBytes: (bytes: number) => void;
    readonly sha256: string;
  },
): Promise<void> {
  await retryRetryable(
    async () => {
      const body = createReadStream(path, { highWaterMark: FILE_CHUNK_BYTES }).pipe(
        counter(size, options.onBytes),
      );
      try {
        await store.putBlob(container, name, body, {
          contentType: 'application/octet-stream',
          metadata: { sha256: options.sha256 },
          signal: options.signal,
        });
      } catch (error) {
        body.destroy();
        throw error;
      }
    },
    {
      attempts: UPLOAD_ATTEMPTS,
      baseDelayMs: FIRST_UPLOAD_PAUSE_MS,
      maxDelayMs: 5_000,
      signal: options.signal,
    },
  );
}

/**
 * Downloads a blob to the new file `toPath`, hashing it on the way: `CORRUPT` when the blob is
 * missing, its size or its SHA-256 is not the expected one (the bytes beyond the expected size are
 * never written). The caller removes the file.
 */
export async function downloadVerified(
  store: BlobStore,
  container: string,
  name: string,
  toPath: string,
  expected: { readonly sha256: string; readonly size: number },
  options: { readonly signal: AbortSignal; readonly onBytes: (bytes: number) => void },
): Promise<void> {
  const blob = await store.getBlob(container, name, { signal: options.signal });
  if (!blob)
    throw new VmkitError('CORRUPT', `shared master disk ${name} is missing from ${container}`, {
      details: { blob: name, rule: 'missing' },
    });
  if (blob.size !== expected.size)
    throw new VmkitError(
      'CORRUPT',
      `shared master disk ${name} has ${blob.size} bytes, its record says ${expected.size}`,
      {
        details: { blob: name, rule: 'size' },
      },
    );
  const hash = createHash('sha256');
  await pipeline(
    blob.stream(),
    counter(expected.size, options.onBytes, hash),
    createWriteStream(toPath, { flags: 'wx', mode: 0o600 }),
    {
      signal: options.signal,
    },
  );
  const got = hash.digest('hex');
  if (got !== expected.sha256)
    throw new VmkitError(
      'CORRUPT',
      `shared master disk ${name} has sha256 ${got}, its record says ${expected.sha256}`,
      {
        details: { blob: name, rule: 'sha256' },
      },
    );
}
