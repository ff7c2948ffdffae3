import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { VmkitError } from '@vmkit/core/spi';

/** Bytes read at a time when hashing a file. */
const HASH_CHUNK = 8 * 1024 * 1024;

/** SHA-256 (hex) of a file, read in 8 MiB chunks (checked for abort between them). */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(HASH_CHUNK);
    for (let pos = 0; ; ) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buf, 0, HASH_CHUNK, pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** Result of {@link copyCounted}. */
export interface CopyResult {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Streams `source` into `file`, hashing and counting; more than `maxBytes` fails with
 * `INVALID_ARGUMENT` naming `field` before the excess is written. `file` is created exclusively
 * (mode 0600): an existing file or link there fails the copy rather than being written through.
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
  await pipeline(readable, meter, createWriteStream(file, { flags: 'wx', mode: 0o600 }), {
    signal: opts.signal,
  });
  return { bytes, sha256: hash.digest('hex') };
}
