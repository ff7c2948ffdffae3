import { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { StoredBlob } from '@vmkit/core/blobstore';
import { abortedError, scrubError, sleep, VmkitError } from '@vmkit/core/spi';
import { compareEtag, EtagDigest } from './etag-digest.js';
import { isS3NotFound, s3Status, toS3StoreError } from './s3-errors.js';
import { decodeMetadata } from './s3-metadata.js';

/** What {@link downloadBlob} reads. */
export interface DownloadRequest {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly name: string;
  readonly signal?: AbortSignal;
  /** Bytes fetched by the first request; smaller blobs are read whole at once. */
  readonly headBytes: number;
  /** Attempts to resume a body whose connection broke. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
}

/**
 * Reads a blob: one ranged GET fetches its attributes and its first `headBytes`; a blob that
 * fits is complete then (one request, nothing left open). For a larger one, `stream()` fetches
 * the rest with `If-Match` on the ETag (a blob replaced since is a `CONFLICT`), resuming from the
 * last byte received if the connection breaks. Every read checks the MD5 digest against the ETag
 * where the ETag is MD5-based: a mismatch is `CORRUPT`. `undefined` when the key is absent.
 */
export async function downloadBlob(request: DownloadRequest): Promise<StoredBlob | undefined> {
  const context = { operation: 'getBlob', bucket: request.bucket, key: request.key };
  let first: GetObjectCommandOutput;
  try {
    first = await get(request, `bytes=0-${request.headBytes - 1}`);
  } catch (error) {
    if (isS3NotFound(error)) return undefined;
    // An empty object has no byte 0: ranged reads of it fail with 416.
    if (s3Status(error) !== 416) throw mapError(error, request, context);
    try {
      first = await get(request, undefined);
    } catch (again) {
      if (isS3NotFound(again)) return undefined;
      throw mapError(again, request, context);
    }
  }
  const total = totalSize(first);
  const label = `${request.bucket}/${request.key}`;
  // A ranged answer must be the range asked for: bytes from 0, within the object.
  const range = parseContentRange(first.ContentRange);
  if (first.ContentRange !== undefined && (range === undefined || range.start !== 0 || range.end >= total)) {
    destroyBody(first);
    throw new VmkitError(
      'CORRUPT',
      `S3 getBlob ${label}: the server answered another range (${first.ContentRange}) than bytes 0-`,
      {
        details: { bucket: request.bucket, key: request.key, contentRange: first.ContentRange },
      },
    );
  }
  let head: Buffer;
  try {
    head = Buffer.from((await first.Body?.transformToByteArray()) ?? new Uint8Array(0));
  } catch (error) {
    throw mapError(error, request, context);
  }
  if (range !== undefined && head.byteLength !== range.end + 1) {
    throw new VmkitError(
      'CORRUPT',
      `S3 getBlob ${label}: ${head.byteLength} bytes for the range ${first.ContentRange}`,
      {
        details: { bucket: request.bucket, key: request.key, contentRange: first.ContentRange },
      },
    );
  }
  const { metadata, partSize } = decodeMetadata(first.Metadata);
  const etag = first.ETag;
  const encryption = {
    serverSideEncryption: first.ServerSideEncryption,
    customerAlgorithm: first.SSECustomerAlgorithm,
  };
  const corrupt = (digest: { md5: string; composite?: string }) =>
    new VmkitError('CORRUPT', `S3 getBlob ${label}: content does not match its ETag ${etag}`, {
      details: { bucket: request.bucket, key: request.key, etag, digest },
    });
  const check = (digest: EtagDigest): void => {
    const sums = digest.finish();
    if (compareEtag(etag, sums, encryption) === 'mismatch') throw corrupt(sums);
  };

  let stream: () => Readable;
  if (head.byteLength >= total) {
    const digest = new EtagDigest(partSize);
    digest.update(head);
    check(digest);
    const content = head.subarray(0, total);
    stream = () => Readable.from([content], { objectMode: false });
  } else {
    stream = () =>
      Readable.from(readRest(request, head, total, etag, partSize, check), { objectMode: false });
  }
  const bytes = async (): Promise<Uint8Array> => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream()) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  return {
    name: request.name,
    size: total,
    etag,
    contentType: first.ContentType,
    lastModified: first.LastModified,
    metadata,
    stream,
    bytes,
    text: async () => Buffer.from(await bytes()).toString('utf8'),
  };
}

async function* readRest(
  request: DownloadRequest,
  head: Buffer,
  total: number,
  etag: string | undefined,
  partSize: number | undefined,
  check: (digest: EtagDigest) => void,
): AsyncGenerator<Buffer> {
  const context = { operation: 'getBlob (reading)', bucket: request.bucket, key: request.key };
  const digest = new EtagDigest(partSize);
  digest.update(head);
  yield head;
  let offset = head.byteLength;
  let failures = 0;
  while (offset < total) {
    let response: GetObjectCommandOutput;
    try {
      response = await get(request, `bytes=${offset}-${total - 1}`, etag);
    } catch (error) {
      if (s3Status(error) === 412)
        throw new VmkitError(
          'CONFLICT',
          `S3 getBlob ${request.bucket}/${request.key} changed while it was read`,
          {
            cause: scrubError(error),
            details: { bucket: request.bucket, key: request.key, etag },
          },
        );
      throw mapError(error, request, context);
    }
    checkResumed(request, response, { offset, total, etag });
    let progressed = false;
    try {
      for await (const chunk of response.Body as AsyncIterable<Buffer>) {
        const take = chunk.byteLength > total - offset ? chunk.subarray(0, total - offset) : chunk;
        digest.update(take);
        offset += take.byteLength;
        progressed = true;
        yield take;
        if (offset >= total) break;
      }
      if (offset >= total) break;
      throw new VmkitError('STORE', `S3 getBlob ${request.bucket}/${request.key}: the body ended early`);
    } catch (error) {
      if (request.signal?.aborted) throw abortedError(request.signal, 'download');
      // The connection broke mid-body: resume where it stopped, a bounded number of times in a row.
      if (progressed) failures = 0;
      if (++failures >= request.maxAttempts) throw mapError(error, request, context);
      await sleep(request.baseDelayMs * 2 ** (failures - 1), request.signal);
    }
  }
  check(digest);
}

function get(
  request: DownloadRequest,
  range: string | undefined,
  ifMatch?: string,
): Promise<GetObjectCommandOutput> {
  return request.client.send(
    new GetObjectCommand({ Bucket: request.bucket, Key: request.key, Range: range, IfMatch: ifMatch }),
    { abortSignal: request.signal },
  );
}

/**
 * A resumed read must answer exactly the range asked for, of the same object: 206 with
 * `Content-Range: bytes offset-(total-1)/total`, and the first answer's ETag when it names one.
 * A server, cache or proxy that ignores `Range` (200, whole object) or `If-Match` would otherwise
 * have wrong bytes stitched in, which an unverifiable ETag would not catch: `CONFLICT` when the
 * ETag differs (the object changed), `CORRUPT` otherwise.
 */
function checkResumed(
  request: DownloadRequest,
  response: GetObjectCommandOutput,
  want: { offset: number; total: number; etag: string | undefined },
): void {
  const { offset, total, etag } = want;
  const details = {
    bucket: request.bucket,
    key: request.key,
    etag,
    status: response.$metadata.httpStatusCode,
    contentRange: response.ContentRange,
    responseEtag: response.ETag,
  };
  const where = `S3 getBlob ${request.bucket}/${request.key}`;
  if (etag !== undefined && response.ETag !== undefined && response.ETag !== etag) {
    destroyBody(response);
    throw new VmkitError(
      'CONFLICT',
      `${where} changed while it was read (ETag ${response.ETag}, was ${etag})`,
      {
        details,
      },
    );
  }
  const expected = `bytes ${offset}-${total - 1}/${total}`;
  if (response.$metadata.httpStatusCode !== 206 || response.ContentRange !== expected) {
    destroyBody(response);
    throw new VmkitError(
      'CORRUPT',
      `${where}: resuming at byte ${offset}, the server answered HTTP ${response.$metadata.httpStatusCode} with Content-Range ${response.ContentRange ?? '(none)'} instead of 206 with ${expected}`,
      { details },
    );
  }
}

function parseContentRange(value: string | undefined): { start: number; end: number } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value ?? '');
  return match ? { start: Number(match[1]), end: Number(match[2]) } : undefined;
}

function destroyBody(response: GetObjectCommandOutput): void {
  (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
}

function totalSize(response: GetObjectCommandOutput): number {
  const match = /\/(\d+)$/.exec(response.ContentRange ?? '');
  if (match) return Number(match[1]);
  return response.ContentLength ?? 0;
}

function mapError(
  error: unknown,
  request: DownloadRequest,
  context: { operation: string; bucket: string; key: string },
) {
  if (request.signal?.aborted) return abortedError(request.signal, 'download');
  return toS3StoreError(error, context);
}
