import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Shared zero bytes for padding; never written to. */
export const ZEROES = new Uint8Array(64 * 1024);

/** Yields `length` zero bytes as read-only slices of {@link ZEROES}. */
export function* zeroChunks(length: number): Generator<Uint8Array> {
  for (let left = length; left > 0; left -= ZEROES.length)
    yield ZEROES.subarray(0, Math.min(left, ZEROES.length));
}

/** Collects an image of known size in memory. */
export class MemorySink {
  readonly bytes: Uint8Array;
  #position = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  /** Copies `chunk` at the current position (zero chunks only advance: the buffer starts zeroed). */
  write(chunk: Uint8Array): void {
    if (chunk.buffer !== ZEROES.buffer) this.bytes.set(chunk, this.#position);
    this.#position += chunk.length;
  }

  /** Bytes written so far. */
  get position(): number {
    return this.#position;
  }
}

const FILE_BUFFER = 4 * 1024 * 1024;

/**
 * Writes an image to a temporary file beside `path`, renamed into place by {@link FileSink.commit};
 * {@link FileSink.discard} removes it, so a failed or aborted write leaves nothing behind.
 */
export class FileSink {
  readonly #handle: FileHandle;
  readonly #temp: string;
  readonly #path: string;
  readonly #buffer = new Uint8Array(FILE_BUFFER);
  #filled = 0;
  #position = 0;

  private constructor(handle: FileHandle, temp: string, path: string) {
    this.#handle = handle;
    this.#temp = temp;
    this.#path = path;
  }

  /** Creates the temporary file. */
  static async create(path: string): Promise<FileSink> {
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
    const handle = await open(temp, 'wx', 0o644);
    return new FileSink(handle, temp, path);
  }

  /** Appends `chunk`; large holes of zeroes are left sparse. */
  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.buffer === ZEROES.buffer && chunk.length > 4096) {
      await this.#flush();
      this.#position += chunk.length;
      return;
    }
    if (chunk.length >= FILE_BUFFER / 2) {
      await this.#flush();
      await this.#writeAll(chunk, this.#position);
      this.#position += chunk.length;
      return;
    }
    if (this.#filled + chunk.length > FILE_BUFFER) await this.#flush();
    this.#buffer.set(chunk, this.#filled);
    this.#filled += chunk.length;
  }

  /** Flushes, sets the final length, and renames the file into place. */
  async commit(size: number): Promise<void> {
    await this.#flush();
    await this.#handle.truncate(size);
    await this.#handle.close();
    await rename(this.#temp, this.#path);
  }

  /** Closes and removes the temporary file. */
  async discard(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
    await rm(this.#temp, { force: true });
  }

  async #flush(): Promise<void> {
    if (this.#filled === 0) return;
    await this.#writeAll(this.#buffer.subarray(0, this.#filled), this.#position);
    this.#position += this.#filled;
    this.#filled = 0;
  }

  async #writeAll(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, done, bytes.length - done, position + done);
      done += bytesWritten;
    }
  }
}
