import { abortedError } from '@vmkit/core/blobstore';
import { PartBufferPool } from './part-buffer-pool.js';

/** One part to send: its bytes, and what to call once the upload no longer needs them. */
export interface Part {
  readonly bytes: Uint8Array;
  readonly release: () => void;
}

/** Where a multipart upload takes its parts from. */
export interface PartSource {
  /** The next part (exactly `partSize` bytes except the last), or `undefined` at the end. */
  next(): Promise<Part | undefined>;
  /** Stops the source after a failure (destroys the stream it reads). */
  stop(): void;
  /** Frees what the source holds, once every part is acknowledged. */
  finish(): void;
}

/** Parts of a body already in memory: views into it, nothing copied. */
export function bytesPartSource(bytes: Uint8Array, partSize: number): PartSource {
  let offset = 0;
  return {
    async next() {
      if (offset >= bytes.byteLength) return undefined;
      const part = bytes.subarray(offset, offset + partSize);
      offset += part.byteLength;
      return { bytes: part, release: () => {} };
    },
    stop() {},
    finish() {},
  };
}

/** A {@link PartSource} over a stream, which can also tell whether the stream has ended. */
export interface StreamPartSource extends PartSource {
  /** True when the stream has no bytes left (reads ahead one chunk to know). */
  ended(): Promise<boolean>;
}

/**
 * Parts of a streamed body, copied into at most `buffers` reused part buffers: whatever the
 * chunk sizes of the stream, the upload holds `buffers × partSize` bytes and allocates nothing
 * per part; `finish` frees the buffers at once. `stop` destroys the stream. Reading checks
 * `signal` between chunks.
 */
export function streamPartSource(
  body: AsyncIterable<Uint8Array | string> & { destroy(): void },
  partSize: number,
  buffers: number,
  signal: AbortSignal | undefined,
): StreamPartSource {
  const source = body[Symbol.asyncIterator]();
  const pool = new PartBufferPool(partSize, buffers);
  let pending: Uint8Array | undefined;
  let done = false;
  const nextChunk = async (): Promise<Uint8Array | undefined> => {
    if (signal?.aborted) throw abortedError(signal, 'upload');
    if (done) return undefined;
    const next = await source.next();
    if (signal?.aborted) throw abortedError(signal, 'upload');
    if (next.done) {
      done = true;
      return undefined;
    }
    return typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value;
  };
  return {
    async ended() {
      while (pending === undefined || pending.byteLength === 0) {
        pending = await nextChunk();
        if (pending === undefined) return true;
      }
      return false;
    },
    async next() {
      if (await this.ended()) return undefined;
      const buffer = await pool.acquire();
      let filled = 0;
      try {
        while (filled < partSize) {
          pending ??= await nextChunk();
          if (pending === undefined) break;
          const take = Math.min(partSize - filled, pending.byteLength);
          buffer.set(take === pending.byteLength ? pending : pending.subarray(0, take), filled);
          filled += take;
          pending = take < pending.byteLength ? pending.subarray(take) : undefined;
        }
      } catch (error) {
        pool.release(buffer);
        throw error;
      }
      return { bytes: buffer.subarray(0, filled), release: () => pool.release(buffer) };
    },
    stop: () => body.destroy(),
    finish: () => pool.dispose(),
  };
}

/** `parts` with `first` put back in front. */
export function prependPart(first: Part, parts: PartSource): PartSource {
  let head: Part | undefined = first;
  return {
    next() {
      const part = head;
      head = undefined;
      return part ? Promise.resolve(part) : parts.next();
    },
    stop: () => parts.stop(),
    finish: () => parts.finish(),
  };
}
