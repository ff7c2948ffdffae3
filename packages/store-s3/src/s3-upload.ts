import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { abortedError, type BlobBody, VmkitError } from '@vmkit/core';
import { compareEtag, EtagDigest } from './etag-digest.js';
import { toS3StoreError } from './s3-errors.js';
import { encodeMetadata, PART_SIZE_KEY } from './s3-metadata.js';
import type { UploadJanitor } from './upload-janitor.js';

/** What {@link uploadBody} writes. */
export interface UploadRequest {
  readonly client: S3Client;
  readonly janitor: UploadJanitor;
  readonly bucket: string;
  readonly key: string;
  readonly body: BlobBody;
  readonly contentType?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly ifNoneMatch?: '*';
  readonly signal?: AbortSignal;
  readonly partSize: number;
  readonly queueSize: number;
}

/**
 * Writes a body to one key, atomically: a body that fits in one part goes in a single PUT with
 * `Content-MD5` (the server checks it); a larger one is streamed as a multipart upload through
 * lib-storage, with at most `queueSize` parts in memory, and is visible only once completed.
 * The server's ETag is then checked against the MD5 digests computed on the way; a mismatch
 * removes the object and fails with `CORRUPT`. A failed or aborted multipart upload is aborted
 * on the server, in the background until the server answers.
 */
export async function uploadBody(request: UploadRequest): Promise<{ etag?: string }> {
  const { body, signal, partSize } = request;
  const context = { operation: 'putBlob', bucket: request.bucket, key: request.key };
  if (signal?.aborted) throw abortedError(signal, 'upload');
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (bytes.byteLength <= partSize) return putSingle(request, bytes);
    return putMultipart(
      request,
      (async function* () {
        for (let off = 0; off < bytes.byteLength; off += partSize) yield bytes.subarray(off, off + partSize);
      })(),
    );
  }
  // A stream: read up to one part; if it ends there, one PUT, else multipart from what was read on.
  const source = (body as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headSize = 0;
  let ended = false;
  try {
    while (headSize <= partSize) {
      if (signal?.aborted) throw abortedError(signal, 'upload');
      const next = await source.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      head.push(chunk);
      headSize += chunk.byteLength;
    }
    if (signal?.aborted) throw abortedError(signal, 'upload');
  } catch (error) {
    body.destroy();
    throw signal?.aborted
      ? abortedError(signal, 'upload')
      : toS3StoreError(error, { ...context, operation: 'putBlob (reading the body)' });
  }
  if (ended) return putSingle(request, Buffer.concat(head, headSize));
  return putMultipart(
    request,
    (async function* () {
      yield* head;
      for (let next = await source.next(); !next.done; next = await source.next()) {
        yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      }
    })(),
    () => body.destroy(),
  );
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
    throw toS3StoreError(error, context);
  }
  await verifyUpload(request, etag, { md5: md5.toString('hex') }, sse);
  return { etag };
}

async function putMultipart(
  request: UploadRequest,
  chunks: AsyncGenerator<Uint8Array>,
  destroySource: () => void = () => {},
): Promise<{ etag?: string }> {
  const { signal, partSize } = request;
  const context = { operation: 'putBlob', bucket: request.bucket, key: request.key };
  const digest = new EtagDigest(partSize);
  const feed = (async function* () {
    for await (const chunk of chunks) {
      if (signal?.aborted) throw abortedError(signal, 'upload');
      digest.update(chunk);
      yield chunk;
    }
  })();
  const upload = new Upload({
    client: request.client,
    partSize,
    queueSize: request.queueSize,
    leavePartsOnError: false,
    params: {
      Bucket: request.bucket,
      Key: request.key,
      Body: Readable.from(feed, { objectMode: false, highWaterMark: 64 * 1024 }),
      ContentType: request.contentType,
      Metadata: encodeMetadata(request.metadata, { [PART_SIZE_KEY]: String(partSize) }),
      IfNoneMatch: request.ifNoneMatch,
    },
  });
  const onAbort = () => void upload.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let result: Awaited<ReturnType<Upload['done']>>;
  try {
    result = await upload.done();
  } catch (error) {
    destroySource();
    await feed.return(undefined).catch(() => {});
    // lib-storage aborts the upload itself; if that failed (server gone), keep trying later.
    if (upload.uploadId) request.janitor.abort(request.bucket, request.key, upload.uploadId);
    if (signal?.aborted) throw abortedError(signal, 'upload');
    throw toS3StoreError(error, context);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const etag = result.ETag;
  await verifyUpload(request, etag, digest.finish(), result as { ServerSideEncryption?: string });
  return { etag };
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
  await request.client
    .send(new DeleteObjectCommand({ Bucket: request.bucket, Key: request.key }))
    .catch(() => {});
  throw new VmkitError(
    'CORRUPT',
    `S3 putBlob ${request.bucket}/${request.key}: the server stored other bytes than were sent (ETag ${etag}, expected "${digest.composite ?? digest.md5}")`,
    { details: { bucket: request.bucket, key: request.key, etag, expected: digest } },
  );
}
