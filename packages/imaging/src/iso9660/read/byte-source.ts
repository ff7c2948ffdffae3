import { type FileHandle, open } from 'node:fs/promises';
import { invalidArgument, VmkitError } from '@vmkit/core/spi';

/** Random access to the bytes of an image, in memory or in a file. */
export interface ByteSource {
  /** Size of the image in bytes. */
  readonly size: number;
  /** Reads `length` bytes at `offset`; reading past the end is `CORRUPT`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the file, if any. */
  close(): Promise<void>;
}

function outOfRange(offset: number, length: number, size: number): VmkitError {
  return new VmkitError(
    'CORRUPT',
    `image is truncated or malformed: ${length} bytes at ${offset} lie beyond its end (${size} bytes)`,
    {
      details: { offset, length, size },
    },
  );
}

/** A {@link ByteSource} over bytes in memory. */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bytes.length)
        throw outOfRange(offset, length, bytes.length);
      return bytes.subarray(offset, offset + length);
    },
    async close() {},
  };
}

/** A {@link ByteSource} over a file, opened now and closed by {@link ByteSource.close}. */
export async function fileSource(path: string): Promise<ByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const message = `cannot open image ${path}: ${(error as Error).message}`;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new VmkitError('NOT_FOUND', message, { cause: error });
    throw invalidArgument('path', message, { path }, { cause: error });
  }
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size) throw outOfRange(offset, length, size);
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) throw outOfRange(offset, length, size);
        done += bytesRead;
      }
      return buf;
    },
    async close() {
      await handle.close();
    },
  };
}
