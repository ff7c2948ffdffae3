import type { OperationOptions } from '@vmkit/core';
import { emitProgress, invalidArgument, throwIfAborted, toVmkitError, VmkitError } from '@vmkit/core/spi';
import type { MediaFileResult } from '../iso9660/iso-writer.js';
import type { MediaContent, MediaSource } from '../media-entry.js';
import { FileSink } from '../util/byte-sink.js';

/** Largest raw volume {@link populateVolume} writes: 1 TiB (the zeroes are a sparse hole). */
export const POPULATE_MAX_SIZE = 1024 ** 4;

/**
 * Writes the raw volume file `path` of `sizeBytes`: `content` (bytes, text as UTF-8, or a
 * {@link MediaSource} read chunk by chunk) at offset 0, then zeroes up to the size, left as a
 * sparse hole. Memory stays bounded whatever the size: content is streamed through two 1 MiB
 * buffers, never held whole. Written to a temporary file renamed into place; a failure or an abort
 * removes it. Reports `transfer` progress while content is written.
 *
 * @throws `INVALID_ARGUMENT` when the size is not a positive integer up to 1 TiB, the content is
 * larger than the volume, or `path` cannot hold a file; `CORRUPT` when a source yields another
 * length than its declared size; `ABORTED` when the signal fires.
 */
export async function populateVolume(
  path: string,
  sizeBytes: number,
  content: MediaContent = new Uint8Array(),
  options: OperationOptions = {},
): Promise<MediaFileResult> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1)
    throw invalidArgument('sizeBytes', 'must be a positive integer');
  if (sizeBytes > POPULATE_MAX_SIZE)
    throw invalidArgument('sizeBytes', `must be at most ${POPULATE_MAX_SIZE} bytes (1 TiB)`);
  const source = sourceOf(content);
  if (source.size > sizeBytes) {
    throw invalidArgument('content', `is ${source.size} bytes, larger than the ${sizeBytes}-byte volume`);
  }
  const { signal, onProgress } = options;
  throwIfAborted(signal, `writing volume ${path}`);
  const sink = await FileSink.create(path);
  try {
    let written = 0;
    for await (const chunk of source.open(signal)) {
      throwIfAborted(signal, `writing volume ${path}`);
      written += chunk.length;
      if (written > source.size) break;
      await sink.write(chunk);
      emitProgress(onProgress, {
        phase: 'transfer',
        fraction: written / source.size,
        message: `${written} of ${source.size} content bytes written to ${path}`,
      });
    }
    if (written !== source.size) {
      throw new VmkitError(
        'CORRUPT',
        `content yielded ${written} bytes, not the ${source.size} it declared`,
        {
          details: { field: 'content' },
        },
      );
    }
    await sink.commit(sizeBytes);
  } catch (error) {
    await sink.discard();
    throw toVmkitError(error, 'STORE', `writing volume ${path}`);
  }
  return Object.freeze({ path, size: sizeBytes });
}

function sourceOf(content: MediaContent): MediaSource {
  if (typeof content === 'string' || content instanceof Uint8Array) {
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    return {
      size: bytes.length,
      async *open() {
        if (bytes.length > 0) yield bytes;
      },
    };
  }
  if (
    typeof content !== 'object' ||
    content === null ||
    !Number.isSafeInteger(content.size) ||
    content.size < 0 ||
    typeof content.open !== 'function'
  ) {
    throw invalidArgument('content', 'must be a Uint8Array, a string or a MediaSource');
  }
  return content;
}
