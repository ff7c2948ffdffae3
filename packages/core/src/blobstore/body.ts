import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { abortedError } from '../util/abort.js';
import type { BlobBody } from './blob-store.js';

/** Reads any blob body into one buffer, honouring `signal`. */
export async function bodyToBytes(body: BlobBody, signal?: AbortSignal): Promise<Uint8Array> {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    if (signal?.aborted) {
      body.destroy();
      throw abortedError(signal, 'upload');
    }
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}

/** The quoted MD5 entity tag of some bytes, as S3 computes it for single-part objects. */
export function md5Etag(bytes: Uint8Array): string {
  return `"${createHash('md5').update(bytes).digest('hex')}"`;
}

/** A readable stream over bytes. */
export function bytesStream(bytes: Uint8Array): Readable {
  return Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)], {
    objectMode: false,
  });
}
