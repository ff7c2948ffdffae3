import { createHash } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { BlobBody } from '@vmkit/core/blobstore';
import { abortedError, VmkitError } from '@vmkit/core/spi';
import { compareEtag } from './etag-digest.js';
import {
  bytesPartSource,
  type Part,
  type PartSource,
  prependPart,
  streamPartSource,
} from './part-sources.js';
import { toS3StoreError } from './s3-errors.js';
import { recoverLostAnswer } from './s3-lost-answer.js';
import { encodeMetadata } from './s3-metadata.js';
import { type MultipartRequest, putMultipart } from './s3-multipart-upload.js';

/** What {@link uploadBody} writes: a multipart request's fields plus the body. */
export interface UploadRequest extends MultipartRequest {
  /** The body to store. */
  readonly body: BlobBody;
}

/**
 * Writes a body to one key, atomically: a body that fits in one part goes in a single PUT with
 * `Content-MD5` (the server checks it); a larger one is streamed as a multipart upload through
 * `queueSize` reused part buffers (see `putMultipart`), and is visible only once completed.
 * The server's ETag is then checked against the MD5 digests computed on the way; a mismatch
 * fails with `CORRUPT` and removes the object if it is still the one written (`If-Match`). A
 * write whose answer was lost (the retry fails, yet our bytes are at the key) succeeds. A failed
 * or aborted multipart upload is aborted on the server, in the background until the server
 * answers; an abort or a failed part ends the upload at once, even while the stream is stalled.
 */
export async function uploadBody(request: UploadRequest): Promise<{ etag?: string }> {
  const { body, signal, partSize } = request;
  const context = { operation: 'putBlob', bucket: request.bucket, key: request.key };
  if (signal?.aborted) throw abortedError(signal, 'upload');
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (bytes.byteLength <= partSize) return putSingle(request, bytes);
    return multipart(request, bytesPartSource(bytes, partSize));
  }
  // A stream: read one part; if the stream ends there, one PUT, else a multipart upload.
  const parts = streamPartSource(body, partSize, request.queueSize, signal);
  let first: Part | undefined;
  let ended: boolean;
  try {
    first = await parts.next();
    ended = await parts.ended();
  } catch (error) {
    first?.release();
    parts.stop();
    throw signal?.aborted
      ? abortedError(signal, 'upload')
      : toS3StoreError(error, { ...context, operation: 'putBlob (reading the body)' });
  }
  if (!ended && first) return multipart(request, prependPart(first, parts));
  try {
    return await putSingle(request, first?.bytes ?? new Uint8Array(0));
  } finally {
    first?.release();
    parts.finish();
  }
}

async function putSingle(request: UploadRequest, bytes: Uint8Array): Promise<{ etag?: string }> {
  const context = { operation: 'putBlob', bucket: request.bucket, key: request.key };
  const md5 = createHash('md5').update(bytes).digest();
  let etag: string | undefined;
  let sse: { ServerSideEncryption?: string; SSECustomerAlgorithm?: string };
  try {
    const result = await request.client.send(
      new PutObjectCommand({
        Bucket: request.bucket,
        Key: request.key,
        Body: bytes,
        ContentLength: bytes.byteLength,
        ContentMD5: md5.toString('base64'),
        ContentType: request.contentType,
        Metadata: encodeMetadata(request.metadata),
        IfNoneMatch: request.ifNoneMatch,
      }),
      { abortSignal: request.signal },
    );
    etag = result.ETag;
    sse = result;
  } catch (error) {
    if (request.signal?.aborted) throw abortedError(request.signal, 'upload');
    // A retry that failed (412 with ifNoneMatch...) after an attempt whose answer was lost.
    const recovered = await recoverLostAnswer(request.client, request, { md5: md5.toString('hex') }, error);
    if (!recovered) throw toS3StoreError(error, context);
    etag = recovered.ETag;
    sse = recovered;
  }
  await verifyUpload(request, etag, { md5: md5.toString('hex') }, sse);
  return { etag };
}

async function multipart(request: UploadRequest, parts: PartSource): Promise<{ etag?: string }> {
  const { output, digest } = await putMultipart(request, parts);

  await verifyUpload(request, output.ETag, digest, output);
  return { etag: output.ETag };
}

async function verifyUpload(
  request: UploadRequest,
  etag: string | undefined,
  digest: { md5: string; composite?: string },
  sse: { ServerSideEncryption?: string; SSECustomerAlgorithm?: string },
): Promise<void> {
  const verdict = compareEtag(etag, digest, {
    serverSideEncryption: sse.ServerSideEncryption,
    customerAlgorithm: sse.SSECustomerAlgorithm,
  });
  if (verdict !== 'mismatch') return;
  const removed = await removeIfStill(request, etag);
  throw new VmkitError(
    'CORRUPT',
    `S3 putBlob ${request.bucket}/${request.key}: the server stored other bytes than were sent (ETag ${etag}, expected "${digest.composite ?? digest.md5}"); ${removed ? 'the object was removed' : "the object is left in place (the key may hold another writer's object now, or the server does not take If-Match on DeleteObject): check it"}`,
    { details: { bucket: request.bucket, key: request.key, etag, expected: digest, removed } },
  );
}

/**
 * Removes the object the failed upload made, only while it is still that object (`If-Match` on
 * its ETag): another writer's object put at the key since stays. True when it was removed.
 */
async function removeIfStill(request: UploadRequest, etag: string | undefined): Promise<boolean> {
  if (etag === undefined) return false;
  try {
    await request.client.send(
      new DeleteObjectCommand({ Bucket: request.bucket, Key: request.key, IfMatch: etag }),
    );
    return true;
  } catch {
    return false;
  }
}
