import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { type CpioFile, writeCpioNewc } from './cpio-newc.js';

const gzipAsync = promisify(gzip);

/** Options of {@link appendToInitrd}. */
export interface AppendToInitrdOptions {
  readonly signal?: AbortSignal;
  /** Compress the appended archive with gzip (default true). */
  readonly gzip?: boolean;
}

/**
 * Writes `output`: the initrd `source` unchanged (compressed or not), zero bytes up to a 4-byte
 * boundary, then `files` as a second cpio "newc" archive (gzip'd by default). Linux unpacks the
 * archives in turn into one root, so the files appear at `/name` beside the first archive's (an
 * installer such as Debian's reads `/preseed.cfg` there). Returns the bytes written.
 */
export async function appendToInitrd(
  source: string,
  files: readonly CpioFile[],
  output: string,
  options: AppendToInitrdOptions = {},
): Promise<number> {
  const size = (await stat(source)).size;
  const cpio = writeCpioNewc(files);
  const tail = options.gzip === false ? cpio : new Uint8Array(await gzipAsync(cpio));
  const padding = new Uint8Array((4 - (size % 4)) % 4);
  const out = createWriteStream(output, { mode: 0o600 });
  await pipeline(createReadStream(source), out, {
    end: false,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    out.write(padding);
    out.end(tail, (error?: Error | null) => (error ? reject(error) : resolve()));
  });
  return size + padding.byteLength + tail.byteLength;
}
