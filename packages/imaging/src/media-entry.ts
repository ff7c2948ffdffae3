import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { invalidArgument, throwIfAborted } from '@vmkit/core/spi';
import { FILE_PATH } from './util/file-region.js';

/** What a {@link MediaEntry} is. */
export type MediaEntryType = 'file' | 'directory' | 'symlink';

/**
 * File content read lazily, for images larger than memory: the writers pull the bytes while they
 * write, in order, once. The declared {@link MediaSource.size} must match what {@link MediaSource.open}
 * yields, or the write fails with `CORRUPT`.
 */
export interface MediaSource {
  /** Exact length of the content in bytes. */
  readonly size: number;
  /** Yields the content in chunks, from the start. Called once per write. */
  open(signal?: AbortSignal): AsyncIterable<Uint8Array>;
}

/** The content of a file entry: bytes, text (written as UTF-8), or a lazily read {@link MediaSource}. */
export type MediaContent = Uint8Array | string | MediaSource;

/**
 * One file, directory or symbolic link to put on a medium. Parent directories are created as
 * needed; `path` is relative, `/`-separated, and may not contain `.` or `..` components.
 */
export interface MediaEntry {
  /** Relative path on the medium, such as `openstack/latest/meta_data.json`. */
  readonly path: string;
  /** File content (files only; default empty). */
  readonly content?: MediaContent;
  /** Entry type (default `file`, or `symlink` when `target` is set). */
  readonly type?: MediaEntryType;
  /** Symbolic link target (symlinks only; at most 1,024 UTF-8 bytes; kept verbatim, Rock Ridge only). */
  readonly target?: string;
  /** POSIX permission bits, `0` to `0o7777` (default `0o644` files, `0o755` directories, `0o777` links). */
  readonly mode?: number;
  /** Modification time (default: the writer's fixed timestamp, so output is deterministic). */
  readonly mtime?: Date | number;
}

const CHUNK = 1024 * 1024;

/**
 * A {@link MediaSource} over a file on disk: its size is taken now, its bytes are read while the
 * image is written (never all at once). Every writer, in memory (`writeIso9660`, `writeFat`) or to
 * a file (`...ToFile`), copies such files straight into its output buffer with synchronous reads of
 * at most 4 MiB and gives the event loop a turn between them, so it is held for one such read at
 * a time (milliseconds, more on a cold cache).
 */
export async function fromFile(path: string): Promise<MediaSource> {
  let info: ReturnType<typeof statSync>;
  try {
    info = statSync(path);
  } catch (error) {
    throw invalidArgument('path', `cannot read ${path}: ${(error as Error).message}`);
  }
  if (!info.isFile()) throw invalidArgument('path', `${path} is not a regular file`);
  const size = info.size;
  return Object.freeze({
    size,
    [FILE_PATH]: path,
    async *open(signal?: AbortSignal): AsyncIterable<Uint8Array> {
      const handle = await open(path, 'r');
      try {
        let position = 0;
        while (position < size) {
          throwIfAborted(signal, 'reading file content');
          const want = Math.min(CHUNK, size - position);
          const buf = new Uint8Array(want);
          const { bytesRead } = await handle.read(buf, 0, want, position);
          if (bytesRead === 0) break;
          position += bytesRead;
          yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
        }
      } finally {
        await handle.close();
      }
    },
  });
}

/**
 * A {@link MediaSource} over a stream factory (a Node `Readable` or any async iterable of bytes)
 * whose length is known in advance.
 */
export function fromStream(
  size: number,
  openStream: (signal?: AbortSignal) => AsyncIterable<Uint8Array | string>,
): MediaSource {
  if (!Number.isSafeInteger(size) || size < 0)
    throw invalidArgument('size', 'must be a non-negative integer');
  return Object.freeze({
    size,
    async *open(signal?: AbortSignal): AsyncIterable<Uint8Array> {
      for await (const chunk of openStream(signal)) {
        yield typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
      }
    },
  });
}

/** True when `value` is a {@link MediaSource}. */
export function isMediaSource(value: unknown): value is MediaSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    typeof (value as MediaSource).open === 'function' &&
    typeof (value as MediaSource).size === 'number'
  );
}
