import { closeSync, constants, createReadStream, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { toVmkitError, VmkitError } from '../errors/vmkit-error.js';
import { FILE_CHUNK_BYTES } from '../util/file-chunks.js';
import {
  type BlobFileLayout,
  type BlobTrailer,
  blobFileLayout,
  blobTrailer,
  decodeTrailer,
  TRAILER_TAIL,
} from './blob-file-format.js';
import type { BlobListItem, StoredBlob } from './blob-store.js';
import { bytesStream, md5Etag } from './body.js';

/** Blobs up to this size are read whole; larger ones are streamed from the file. */
export const WHOLE_READ_MAX = 1024 * 1024;

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
/** Bytes read from the end of each file when listing. */
const LIST_TAIL = 1024;
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

/**
 * Reads the file of blob `name` (`label` is `container/name`, for errors): `undefined` when absent
 * (or not a regular file).
 * With `syncMax` above 0, the file is opened with synchronous calls (tens of microseconds on a
 * local disk, no thread-pool round-trips): a file up to `syncMax` bytes is read whole that way, and
 * one over {@link WHOLE_READ_MAX} bytes has its trailer (up to `syncMax` bytes) read that way and
 * its content served lazily, as a stream. Anything else (a file between the two sizes, a longer
 * trailer, or every file when `syncMax` is 0) is read with asynchronous calls: whole up to
 * {@link WHOLE_READ_MAX} bytes, else lazily.
 */
export async function readBlobFile(
  path: string,
  name: string,
  label: string,
  syncMax: number,
): Promise<StoredBlob | undefined> {
  if (syncMax > 0) {
    const read = readBlobFileSync(path, name, label, syncMax);
    if (read !== null) return read;
  }
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    if (ABSENT.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw toVmkitError(error, 'STORE', `reading blob ${label}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return undefined;
    if (info.size <= WHOLE_READ_MAX) return parseWhole(name, label, await handle.readFile(), info.mtime);
    const tail = Buffer.alloc(TRAILER_TAIL);
    await handle.read(tail, 0, TRAILER_TAIL, info.size - TRAILER_TAIL);
    const layout = blobFileLayout(tail, info.size);
    let json: Buffer | undefined;
    if (layout.trailerLength !== undefined) {
      json = Buffer.alloc(layout.trailerLength);
      await handle.read(json, 0, layout.trailerLength, layout.contentLength);
    }
    return lazyBlob(path, name, label, info, layout, json);
  } finally {
    await handle.close();
  }
}

/**
 * A blob read lazily: its size and trailer now, its content as a stream of the file opened anew
 * by name, which refuses a file that replaced the one read here.
 */
function lazyBlob(
  path: string,
  name: string,
  label: string,
  info: Stats,
  layout: BlobFileLayout,
  json: Buffer | undefined,
): StoredBlob {
  const trailer = blobTrailer(layout, json, label, () => `W/"${info.size}-${Math.trunc(info.mtimeMs)}"`);
  const openStream = (): Readable => {
    const changed = () =>
      new VmkitError('CONFLICT', `blob ${label} changed since it was opened`, { details: { name } });
    let fd: number;
    try {
      fd = openSync(path, READ_FLAGS);
    } catch (error) {
      if (ABSENT.has((error as NodeJS.ErrnoException).code ?? '')) throw changed(); // removed since
      throw error;
    }
    if (fstatSync(fd).ino !== info.ino) {
      closeSync(fd);
      throw changed();
    }
    return createReadStream('', {
      fd,
      start: 0,
      end: layout.contentLength - 1,
      highWaterMark: FILE_CHUNK_BYTES,
    });
  };
  return storedBlob(name, layout.contentLength, trailer, info.mtime, {
    stream: openStream,
    bytes: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of openStream()) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  });
}

/**
 * One listed blob: its content size and entity tag from the trailer, read with synchronous calls
 * (three syscalls: the file's last KiB holds the trailer of any blob with modest metadata).
 */
export function listBlobFile(dir: string, name: string): BlobListItem | undefined {
  let fd: number;
  try {
    fd = openSync(join(dir, ...name.split('/')), READ_FLAGS);
  } catch {
    return undefined; // removed since the directory was read
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return undefined;
    const end = Buffer.alloc(Math.min(LIST_TAIL, info.size));
    readSync(fd, end, 0, end.byteLength, info.size - end.byteLength);
    const layout = blobFileLayout(end.subarray(Math.max(0, end.byteLength - TRAILER_TAIL)), info.size);
    // A plain file (no trailer of ours) is listed whole, so that it is seen and can be dealt with.
    return {
      name,
      size: layout.contentLength,
      etag: listedEtag(end, layout, name),
      lastModified: info.mtime,
    };
  } finally {
    closeSync(fd);
  }
}

/** The etag in a trailer that lies within `end` (the file's last bytes); else none (read the blob). */
function listedEtag(end: Buffer, layout: BlobFileLayout, name: string): string | undefined {
  if (layout.trailerLength === undefined || layout.trailerLength + TRAILER_TAIL > end.byteLength)
    return undefined;
  const json = end.subarray(
    end.byteLength - TRAILER_TAIL - layout.trailerLength,
    end.byteLength - TRAILER_TAIL,
  );
  try {
    return decodeTrailer(json, name).etag;
  } catch {
    return undefined; // a corrupt trailer is reported when the blob is read
  }
}

/**
 * {@link readBlobFile} with synchronous calls: a blob up to `syncMax` bytes whole, a blob over
 * {@link WHOLE_READ_MAX} bytes lazily (its trailer read now, two small reads); `null` for one in
 * between or with a trailer over `syncMax` bytes, which the caller reads asynchronously.
 */
function readBlobFileSync(
  path: string,
  name: string,
  label: string,
  syncMax: number,
): StoredBlob | undefined | null {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (error) {
    if (ABSENT.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw toVmkitError(error, 'STORE', `reading blob ${label}`);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return undefined;
    if (info.size > syncMax) {
      if (info.size <= WHOLE_READ_MAX) return null;
      const tail = Buffer.alloc(TRAILER_TAIL);
      readFully(fd, tail, info.size - TRAILER_TAIL);
      const layout = blobFileLayout(tail, info.size);
      // A trailer of up to `syncMax` bytes is read here; a longer one (large metadata, or a corrupt
      // length) asynchronously, off the event loop.
      if ((layout.trailerLength ?? 0) > syncMax) return null;
      let json: Buffer | undefined;
      if (layout.trailerLength !== undefined) {
        json = Buffer.alloc(layout.trailerLength);
        readFully(fd, json, layout.contentLength);
      }
      return lazyBlob(path, name, label, info, layout, json);
    }
    const all = Buffer.allocUnsafe(info.size);
    return parseWhole(name, label, all.subarray(0, readFully(fd, all, 0)), info.mtime);
  } finally {
    closeSync(fd);
  }
}

/** Reads into all of `buffer` from `position` on, or until the file ends; the bytes read. */
function readFully(fd: number, buffer: Buffer, position: number): number {
  let off = 0;
  while (off < buffer.byteLength) {
    const n = readSync(fd, buffer, off, buffer.byteLength - off, position + off);
    if (n === 0) break;
    off += n;
  }
  return off;
}

/** A blob from the whole file's bytes; a truncated trailer is `CORRUPT`, like any bad one. */
function parseWhole(name: string, label: string, all: Buffer, mtime: Date): StoredBlob {
  const layout = blobFileLayout(all.subarray(Math.max(0, all.byteLength - TRAILER_TAIL)), all.byteLength);
  const end = layout.contentLength + (layout.trailerLength ?? 0);
  const trailer = blobTrailer(layout, all.subarray(layout.contentLength, end), label, () => md5Etag(all));
  const content = all.subarray(0, layout.contentLength);
  return storedBlob(name, content.byteLength, trailer, mtime, {
    stream: () => bytesStream(content),
    bytes: async () => Uint8Array.from(content),
    text: () => content.toString('utf8'),
  });
}

function storedBlob(
  name: string,
  size: number,
  trailer: BlobTrailer,
  lastModified: Date,
  read: { stream(): Readable; bytes(): Promise<Uint8Array>; text?(): string },
): StoredBlob {
  return {
    name,
    size,
    etag: trailer.etag,
    contentType: trailer.contentType,
    lastModified,
    metadata: Object.freeze({ ...trailer.metadata }),
    stream: read.stream,
    bytes: read.bytes,
    text: async () => (read.text ? read.text() : Buffer.from(await read.bytes()).toString('utf8')),
  };
}
