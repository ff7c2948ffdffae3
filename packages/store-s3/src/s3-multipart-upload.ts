import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { abortedError, invalidArgument, VmkitError } from '@vmkit/core/spi';
import { compareEtag, EtagDigest } from './etag-digest.js';
import type { PartSource } from './part-sources.js';
import { toS3StoreError } from './s3-errors.js';
import { recoverLostAnswer } from './s3-lost-answer.js';
import { encodeMetadata, PART_SIZE_KEY } from './s3-metadata.js';
import type { UploadJanitor } from './upload-janitor.js';

/** The most parts one multipart upload may have (S3's limit). */
export const MAX_PARTS = 10_000;

/** What {@link putMultipart} writes. */
export interface MultipartRequest {
  readonly client: S3Client;
  readonly janitor: UploadJanitor;
  readonly bucket: string;
  readonly key: string;
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly ifNoneMatch?: '*';
  readonly signal?: AbortSignal;
  readonly partSize: number;
  readonly queueSize: number;
}

/** What the server says of a completed upload: its ETag and encryption. */
export interface CompletedUpload {
  readonly ETag?: string;
  readonly ServerSideEncryption?: string;
  readonly SSECustomerAlgorithm?: string;
}

/** What the multipart upload produced: the server's answer and the digests of what was sent. */
export interface MultipartResult {
  readonly output: CompletedUpload;
  readonly digest: { md5: string; composite?: string };
}

/**
 * Sends a body as one multipart upload: CreateMultipartUpload, then its parts with at most
 * `queueSize` UploadPart calls in flight (each with `Content-MD5`, each answer's ETag checked
 * against the part's MD5), then CompleteMultipartUpload (with `If-None-Match` when asked). The
 * part buffers come from `parts`, and go back to it as each part is acknowledged. Any failure or
 * abort stops the source at once (even one waiting on a stalled stream), cancels the parts in
 * flight and aborts the upload on the server (by the janitor, in the background, if the server
 * does not answer now).
 */
export async function putMultipart(request: MultipartRequest, parts: PartSource): Promise<MultipartResult> {
  const { client, bucket, key, signal, partSize } = request;
  const context = { operation: 'putBlob', bucket, key };
  const cancel = new AbortController();
  const onAbort = () => cancel.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const digest = new EtagDigest(partSize);
  const done: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  // A failed part stops everything at once: the parts in flight, and the source, even while it
  // waits for a stalled producer.
  const fail = (error: unknown) => {
    failure ??= { error };
    cancel.abort();
    parts.stop();
  };
  let uploadId: string | undefined;
  try {
    const withChecksums = (await client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
    const created = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ContentType: request.contentType,
        Metadata: encodeMetadata(request.metadata, { [PART_SIZE_KEY]: String(partSize) }),
        ...(withChecksums && { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 }),
      }),
      { abortSignal: cancel.signal },
    );
    uploadId = created.UploadId;
    if (!uploadId) throw new VmkitError('STORE', `S3 putBlob ${bucket}/${key}: the server gave no UploadId`);
    const id = uploadId;
    for (let partNumber = 1; ; partNumber++) {
      if (failure) break;
      // The next part is read while parts are in flight, into a free one of the source's
      // queueSize buffers for a stream (at most queueSize parts held), then waits for a slot.
      const part = await readPart(parts, signal, context);
      if (part === undefined) break;
      while (inFlight.size >= request.queueSize && !failure) await Promise.race(inFlight);
      if (failure) {
        part.release();
        break;
      }
      if (partNumber > MAX_PARTS) {
        part.release();
        throw invalidArgument(
          'partSize',
          `${partSize} bytes makes more than ${MAX_PARTS} parts for this body; use a larger partSize`,
          { bucket, key },
        );
      }
      const md5 = digest.updatePart(part.bytes);
      const work = sendPart(client, { bucket, key, uploadId: id, partNumber, md5 }, part.bytes, cancel.signal)
        .then((completed) => {
          done[partNumber - 1] = completed;
        }, fail)
        .finally(() => {
          part.release();
          inFlight.delete(work);
        });
      inFlight.add(work);
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    const sums = digest.finish();
    let output: CompletedUpload;
    try {
      output = await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: id,
          MultipartUpload: { Parts: done },
          IfNoneMatch: request.ifNoneMatch,
        }),
        { abortSignal: cancel.signal },
      );
    } catch (error) {
      // A retried Complete fails (NoSuchUpload, 412 with ifNoneMatch) when the first one worked
      // and only its answer was lost: then the object at the key is ours.
      const recovered = await recoverLostAnswer(client, { bucket, key, signal }, sums, error);
      if (!recovered) throw error;
      uploadId = undefined; // completed: nothing to abort
      output = recovered;
    }
    parts.finish();
    return { output, digest: sums };
  } catch (error) {
    cancel.abort();
    parts.stop();
    await Promise.allSettled(inFlight);
    if (uploadId !== undefined) await abortUpload(request, uploadId);
    if (signal?.aborted) throw abortedError(signal, 'upload');
    // The first failure is the cause; what failed after it (a read stopped by it) is not.
    throw toS3StoreError(failure ? failure.error : error, context);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function readPart(
  parts: PartSource,
  signal: AbortSignal | undefined,
  context: { operation: string; bucket: string; key: string },
) {
  if (signal?.aborted) throw abortedError(signal, 'upload');
  try {
    return await parts.next();
  } catch (error) {
    if (signal?.aborted) throw abortedError(signal, 'upload');
    throw toS3StoreError(error, { ...context, operation: 'putBlob (reading the body)' });
  }
}

interface PartAddress {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly partNumber: number;
  readonly md5: Buffer;
}

async function sendPart(
  client: S3Client,
  part: PartAddress,
  bytes: Uint8Array,
  abortSignal: AbortSignal,
): Promise<CompletedPart> {
  const result = await client.send(
    new UploadPartCommand({
      Bucket: part.bucket,
      Key: part.key,
      UploadId: part.uploadId,
      PartNumber: part.partNumber,
      Body: bytes,
      ContentLength: bytes.byteLength,
      ContentMD5: part.md5.toString('base64'),
    }),
    { abortSignal },
  );
  const etag = result.ETag;
  if (!etag) {
    throw new VmkitError(
      'STORE',
      `S3 putBlob ${part.bucket}/${part.key}: part ${part.partNumber} has no ETag`,
    );
  }
  const md5 = part.md5.toString('hex');
  const encryption = {
    serverSideEncryption: result.ServerSideEncryption,
    customerAlgorithm: result.SSECustomerAlgorithm,
  };
  if (compareEtag(etag, { md5 }, encryption) === 'mismatch') {
    throw new VmkitError(
      'CORRUPT',
      `S3 putBlob ${part.bucket}/${part.key}: the server stored other bytes than were sent in part ${part.partNumber} (ETag ${etag}, expected "${md5}")`,
      { details: { bucket: part.bucket, key: part.key, partNumber: part.partNumber, etag, expected: md5 } },
    );
  }
  return {
    PartNumber: part.partNumber,
    ETag: etag,
    ...(result.ChecksumCRC32 && { ChecksumCRC32: result.ChecksumCRC32 }),
    ...(result.ChecksumCRC32C && { ChecksumCRC32C: result.ChecksumCRC32C }),
    ...(result.ChecksumSHA1 && { ChecksumSHA1: result.ChecksumSHA1 }),
    ...(result.ChecksumSHA256 && { ChecksumSHA256: result.ChecksumSHA256 }),
  };
}

/** Aborts the upload now; if the server does not answer, the janitor keeps trying. */
async function abortUpload(request: MultipartRequest, uploadId: string): Promise<void> {
  try {
    await request.client.send(
      new AbortMultipartUploadCommand({ Bucket: request.bucket, Key: request.key, UploadId: uploadId }),
    );
  } catch {
    request.janitor.abort(request.bucket, request.key, uploadId);
  }
}
