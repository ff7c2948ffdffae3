import { open } from 'node:fs/promises';
import { throwIfAborted, VmkitError } from '@vmkit/core/spi';
import type { MediaSource } from '../media-entry.js';
import { FILE_OFFSET, FILE_PATH } from './file-region.js';

const CHUNK = 1024 * 1024;

/**
 * A {@link MediaSource} over `size` bytes of the file at `path` from byte `offset` (a file inside an
 * ISO image being remastered): the writers copy it straight from the file, never all at once.
 */
export function fromFileRange(path: string, offset: number, size: number): MediaSource {
  return Object.freeze({
    size,
    [FILE_PATH]: path,
    [FILE_OFFSET]: offset,
    async *open(signal?: AbortSignal): AsyncIterable<Uint8Array> {
      const handle = await open(path, 'r');
      try {
        for (let done = 0; done < size; ) {
          throwIfAborted(signal, 'reading file content');
          const buf = new Uint8Array(Math.min(CHUNK, size - done));
          const { bytesRead } = await handle.read(buf, 0, buf.length, offset + done);
          if (bytesRead === 0) {
            throw new VmkitError('CORRUPT', `${path} ends before byte ${offset + size} of a file it holds`);
          }
          done += bytesRead;
          yield buf.subarray(0, bytesRead);
        }
      } finally {
        await handle.close();
      }
    },
  });
}
