import { invalidArgument } from '@vmkit/core/spi';

/** Largest raw volume {@link populateVolume} builds in memory: 1 GiB. */
export const POPULATE_MAX_SIZE = 1024 * 1024 * 1024;

/**
 * A raw volume of `sizeBytes`: `content` (bytes, or text as UTF-8) at offset 0, the rest zero.
 *
 * @throws `INVALID_ARGUMENT` when the size is not a positive integer up to 1 GiB or the content is
 * larger than the volume.
 */
export async function populateVolume(sizeBytes: number, content: Uint8Array | string): Promise<Uint8Array> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1)
    throw invalidArgument('sizeBytes', 'must be a positive integer');
  if (sizeBytes > POPULATE_MAX_SIZE)
    throw invalidArgument('sizeBytes', `must be at most ${POPULATE_MAX_SIZE} bytes`);
  let bytes: Uint8Array;
  if (typeof content === 'string') bytes = new TextEncoder().encode(content);
  else if (content instanceof Uint8Array) bytes = content;
  else throw invalidArgument('content', 'must be a Uint8Array or a string');
  if (bytes.length > sizeBytes) {
    throw invalidArgument('content', `is ${bytes.length} bytes, larger than the ${sizeBytes}-byte volume`);
  }
  const volume = new Uint8Array(sizeBytes);
  volume.set(bytes, 0);
  return volume;
}
