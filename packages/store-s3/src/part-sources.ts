import { abortedError, VmkitError } from '@vmkit/core/spi';
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
  /**
   * Stops the source after a failure: destroys the stream it reads, and a pending `next` rejects
   * at once.
   */
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
 * per part; `finish` frees the buffers at once. Every wait (for the next chunk of the stream, or
 * for a free buffer) ends as soon as `signal` fires or `stop` is called, even while the producer
 * is stalled: the stream is destroyed then and the pending `next` rejects (with `ABORTED`).
 */
export function streamPartSource(
  body: AsyncIterable<Uint8Array | string> & { destroy(): void },
  partSize: number,
  buffers: number,
  signal: AbortSignal | undefined,
): StreamPartSource {
  const source = body[Symbol.asyncIterator]();
  const pool = new PartBufferPool(partSize, buffers);
  const stopped = new AbortController();
  const cancel = signal ? AbortSignal.any([signal, stopped.signal]) : stopped.signal;
  const onCancel = () => body.destroy();
  cancel.addEventListener('abort', onCancel, { once: true });
  let pending: Uint8Array | undefined;
  let done = false;
  const cancelled = () =>
    signal?.aborted
      ? abortedError(signal, 'upload')
      : new VmkitError('ABORTED', 'upload stopped: the body is no longer read', {
          details: { reason: 'stopped' },
        });
  /** `work`, or a rejection as soon as the upload is cancelled, whichever comes first. */
  const unlessCancelled = <T>(work: Promise<T>): Promise<T> => {
    if (cancel.aborted) {
      work.catch(() => {});
      return Promise.reject(cancelled());
    }
    let onAbort = () => {};
    const stop = new Promise<never>((_, reject) => {
      onAbort = () => reject(cancelled());
      cancel.addEventListener('abort', onAbort, { once: true });
    });
    return Promise.race([work, stop]).finally(() => {
      cancel.removeEventListener('abort', onAbort);
      work.catch(() => {}); // a read abandoned on cancel may still reject: nobody awaits it
    });
  };
  const nextChunk = async (): Promise<Uint8Array | undefined> => {
    if (cancel.aborted) throw cancelled();
    if (done) return undefined;
    const next = await unlessCancelled(source.next());
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
      const acquiring = pool.acquire();
      const buffer = await unlessCancelled(acquiring).catch((error: unknown) => {
        void acquiring.then((b) => pool.release(b)); // hand back the buffer the wait was for
        throw error;
      });
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
    stop: () => {
      stopped.abort();
      body.destroy();
    },
    finish: () => {
      cancel.removeEventListener('abort', onCancel);
      pool.dispose();
    },
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
