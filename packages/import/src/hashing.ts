import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VmkitError } from '@vmkit/core';

/** SHA-256 (hex) of a file, read as a stream. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), hash, signal ? { signal } : {});
  return hash.digest('hex');
}

/** Result of {@link copyCounted}. */
export interface CopyResult {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Streams `source` into `file`, hashing and counting; more than `maxBytes` fails with
 * `INVALID_ARGUMENT` naming `field` before the excess is written.
 */
export async function copyCounted(
  source: Readable | AsyncIterable<Uint8Array>,
  file: string,
  opts: { maxBytes: number; field: string; signal: AbortSignal; onBytes?: (n: number) => void },
): Promise<CopyResult> {
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > opts.maxBytes) {
        done(
          new VmkitError(
            'INVALID_ARGUMENT',
            `${opts.field}: the source is larger than limits.maxImageBytes (${opts.maxBytes} bytes)`,
            { details: { field: opts.field, maxBytes: opts.maxBytes } },
          ),
        );
        return;
      }
      hash.update(chunk);
      try {
        opts.onBytes?.(bytes);
      } catch (error) {
        done(error as Error);
        return;
      }
      done(null, chunk);
    },
  });
  const readable = source instanceof Readable ? source : Readable.from(source);
  await pipeline(readable, meter, createWriteStream(file), { signal: opts.signal });
  return { bytes, sha256: hash.digest('hex') };
}
