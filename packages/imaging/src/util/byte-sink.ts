import { randomBytes } from 'node:crypto';
import { closeSync } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { invalidArgument, VmkitError } from '@vmkit/core/spi';
import { type FileRegion, isFileRegion, openRegion, type Piece, readRegionInto } from './file-region.js';

/** Shared zero bytes for padding; never written to. */
export const ZEROES = new Uint8Array(64 * 1024);

/** Yields `length` zero bytes as read-only slices of {@link ZEROES}. */
export function* zeroChunks(length: number): Generator<Uint8Array> {
  for (let left = length; left > 0; left -= ZEROES.length)
    yield ZEROES.subarray(0, Math.min(left, ZEROES.length));
}

/** Bytes of a file region read in one synchronous call before the event loop gets a turn. */
const REGION_CHUNK = 4 * 1024 * 1024;

/**
 * Collects an image of known size in memory. File regions are read in synchronous reads of at most
 * 4 MiB, yielding to the event loop between them.
 */
export class MemorySink {
  readonly bytes: Uint8Array;
  #position = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  /** Copies `piece` at the current position (zero chunks only advance: the buffer starts zeroed). */
  async write(piece: Piece): Promise<void> {
    if (isFileRegion(piece)) {
      const fd = openRegion(piece);
      try {
        for (let done = 0; done < piece.size; done += REGION_CHUNK) {
          if (done > 0) await nextTurn();
          const length = Math.min(REGION_CHUNK, piece.size - done);
          readRegionInto(fd, piece, this.bytes, this.#position + done, length, done);
        }
      } finally {
        closeSync(fd);
      }
      this.#position += piece.size;
      return;
    }
    if (piece.buffer !== ZEROES.buffer) this.bytes.set(piece, this.#position);
    this.#position += piece.length;
  }

  /** Bytes written so far. */
  get position(): number {
    return this.#position;
  }
}

const FILE_BUFFER = 4 * 1024 * 1024;

/**
 * Writes an image to a temporary file beside `path`, renamed into place by {@link FileSink.commit};
 * {@link FileSink.discard} removes it, so a failed or aborted write leaves nothing behind. Two
 * buffers alternate: one is filled (file regions are read straight into it) while the other is
 * being written, so reading and writing overlap.
 */
export class FileSink {
  readonly #handle: FileHandle;
  readonly #temp: string;
  readonly #path: string;
  readonly #buffers = [new Uint8Array(FILE_BUFFER), new Uint8Array(FILE_BUFFER)];
  readonly #pending: Array<Promise<void> | undefined> = [undefined, undefined];
  #current = 0;
  #buffer: Uint8Array;
  #filled = 0;
  #position = 0;

  private constructor(handle: FileHandle, temp: string, path: string) {
    this.#handle = handle;
    this.#temp = temp;
    this.#path = path;
    this.#buffer = this.#buffers[0] as Uint8Array;
  }

  /**
   * Creates the temporary file. A path that cannot hold a file (missing or non-directory parent,
   * no permission) is `INVALID_ARGUMENT` naming `path`; other failures are `STORE`.
   */
  static async create(path: string): Promise<FileSink> {
    if (typeof path !== 'string' || path === '')
      throw invalidArgument('path', 'must be a non-empty file path');
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
    let handle: FileHandle;
    try {
      handle = await open(temp, 'wx', 0o644);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      const message = `cannot create a file beside ${path}: ${(error as Error).message}`;
      if (['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENAMETOOLONG'].includes(code)) {
        throw invalidArgument('path', message, { path }, { cause: error });
      }
      throw new VmkitError('STORE', message, { details: { path }, cause: error });
    }
    return new FileSink(handle, temp, path);
  }

  /** Appends `piece`; file regions are read straight into the buffer, large holes of zeroes left sparse. */
  async write(piece: Piece): Promise<void> {
    if (isFileRegion(piece)) {
      await this.#writeRegion(piece);
      return;
    }
    if (piece.buffer === ZEROES.buffer && piece.length > 4096) {
      await this.#flush();
      this.#position += piece.length;
      return;
    }
    let off = 0;
    while (off < piece.length) {
      if (this.#filled === FILE_BUFFER) await this.#flush();
      const length = Math.min(FILE_BUFFER - this.#filled, piece.length - off);
      this.#buffer.set(piece.subarray(off, off + length), this.#filled);
      this.#filled += length;
      off += length;
    }
  }

  /** Flushes, sets the final length, and renames the file into place. */
  async commit(size: number): Promise<void> {
    await this.#flush();
    await Promise.all(this.#pending);
    await this.#handle.truncate(size);
    await this.#handle.close();
    await rename(this.#temp, this.#path);
  }

  /** Closes and removes the temporary file. */
  async discard(): Promise<void> {
    await Promise.allSettled(this.#pending);
    await this.#handle.close().catch(() => undefined);
    await rm(this.#temp, { force: true });
  }

  async #writeRegion(region: FileRegion): Promise<void> {
    const fd = openRegion(region);
    try {
      let position = 0;
      while (position < region.size) {
        if (this.#filled === FILE_BUFFER) await this.#flush();
        const length = Math.min(FILE_BUFFER - this.#filled, region.size - position);
        readRegionInto(fd, region, this.#buffer, this.#filled, length, position);
        this.#filled += length;
        position += length;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Starts writing the current buffer and switches to the other one once its own write is done. */
  async #flush(): Promise<void> {
    if (this.#filled === 0) return;
    const index = this.#current;
    const write = this.#writeAll(this.#buffer.subarray(0, this.#filled), this.#position);
    // Observed later (next flush or commit); the no-op handler keeps an early failure from being
    // reported as an unhandled rejection in between.
    write.catch(() => undefined);
    this.#pending[index] = write;
    this.#position += this.#filled;
    this.#filled = 0;
    this.#current = 1 - index;
    this.#buffer = this.#buffers[this.#current] as Uint8Array;
    await this.#pending[this.#current];
    this.#pending[this.#current] = undefined;
  }

  async #writeAll(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, done, bytes.length - done, position + done);
      done += bytesWritten;
    }
  }
}
