import { createHash, randomUUID } from 'node:crypto';
import { closeSync, constants, createReadStream, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { invalidArgument, toVmkitError, VmkitError } from '../errors/vmkit-error.js';
import { abortedError, throwIfAborted } from '../util/abort.js';
import { decodeTrailer, encodeTrailer, TRAILER_TAIL, tryTrailerLength } from './blob-file-format.js';
import { checkBlobName, checkContainerName, checkListOptions, checkMetadata } from './blob-names.js';
import type {
  BlobBody,
  BlobListItem,
  BlobStore,
  ListOptions,
  ListPage,
  PutBlobOptions,
  StoredBlob,
} from './blob-store.js';
import { bytesStream, md5Etag } from './body.js';

/** Options of {@link fileSystemBlobStore}. */
export interface FileSystemBlobStoreOptions {
  /** Directory holding one folder per container; created when missing. */
  readonly root: string;
  /** fsync files and directories on write (default true). Turn off only for throwaway data. */
  readonly durable?: boolean;
  /**
   * Blobs up to this size are read with synchronous calls (default 64 KiB; 0 turns it off). On a
   * local disk that takes tens of microseconds and avoids four thread-pool round-trips per blob,
   * which makes loading thousands of small metadata blobs several times faster.
   */
  readonly syncReadMaxBytes?: number;
}

const SMALL = 1024 * 1024;

/**
 * The default {@link BlobStore}: a directory per container, a file per blob. Writes go to a temp
 * file that is fsynced and renamed into place, so readers never see a partial blob; names are
 * checked so nothing escapes the root; listings are paginated in name order.
 */
export function fileSystemBlobStore(options: FileSystemBlobStoreOptions): BlobStore {
  if (!options || typeof options.root !== 'string' || options.root.length === 0) {
    throw invalidArgument('root', 'must be a non-empty directory path');
  }
  const root = resolve(options.root);
  const durable = options.durable ?? true;
  const syncMax = options.syncReadMaxBytes ?? 64 * 1024;
  if (!Number.isInteger(syncMax) || syncMax < 0 || syncMax > SMALL) {
    throw invalidArgument('syncReadMaxBytes', `must be an integer from 0 to ${SMALL}`);
  }
  const tmpDir = join(root, '.tmp');

  const containerDir = (container: string): string => {
    checkContainerName(container);
    return join(root, container);
  };
  /**
   * Refuses a path whose folders (the container's or the blob name's) include a symbolic link:
   * following one would read or write outside the root.
   */
  const assertNoLinks = (container: string, name: string): void => {
    let at = containerDir(container);
    const folders = name.split('/').slice(0, -1);
    for (let i = 0; ; i++) {
      let info: ReturnType<typeof lstatSync> | undefined;
      try {
        info = lstatSync(at);
      } catch {
        return; // missing from here down: nothing to follow
      }
      if (info.isSymbolicLink()) {
        throw new VmkitError('CORRUPT', `the store refuses to follow the symbolic link ${at}`, {
          details: { container, name },
        });
      }
      if (i >= folders.length) return;
      at = join(at, folders[i] as string);
    }
  };
  const blobPath = (container: string, name: string): string => {
    const dir = containerDir(container);
    checkBlobName(name);
    const path = join(dir, ...name.split('/'));
    if (!path.startsWith(dir + sep) || isAbsolute(name))
      throw invalidArgument('name', 'escapes the container');
    assertNoLinks(container, name);
    return path;
  };
  const requireContainer = async (container: string): Promise<string> => {
    const dir = containerDir(container);
    const info = await lstat(dir).catch(() => undefined);
    if (info?.isSymbolicLink()) {
      throw new VmkitError('CORRUPT', `the store refuses to follow the symbolic link ${dir}`, {
        details: { container },
      });
    }
    if (!info?.isDirectory()) {
      throw new VmkitError('NOT_FOUND', `container ${container} does not exist`, { details: { container } });
    }
    return dir;
  };
  const syncDir = async (dir: string): Promise<void> => {
    if (!durable) return;
    const handle = await open(dir, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  };

  let swept = false;
  /** Once per store, removes temp files older than an hour: left by a process that crashed mid-write. */
  function sweepTemp(): void {
    if (swept) return;
    swept = true;
    void (async () => {
      for (const file of await readdir(tmpDir).catch(() => [] as string[])) {
        const info = await stat(join(tmpDir, file)).catch(() => undefined);
        if (info && Date.now() - info.mtimeMs > 3_600_000) await unlink(join(tmpDir, file)).catch(() => {});
      }
    })();
  }

  async function writeTemp(body: BlobBody, opts: PutBlobOptions): Promise<{ tmp: string; etag: string }> {
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomUUID());
    const handle = await open(tmp, 'wx', 0o644);
    try {
      const md5 = createHash('md5');
      const write = async (chunk: Uint8Array) => {
        throwIfAborted(opts.signal, 'upload');
        md5.update(chunk);
        await handle.write(chunk);
      };
      if (typeof body === 'string') await write(Buffer.from(body, 'utf8'));
      else if (body instanceof Uint8Array) await write(body);
      else {
        for await (const chunk of body as AsyncIterable<Buffer | string>) {
          await write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        }
      }
      const etag = `"${md5.digest('hex')}"`;
      await handle.write(
        encodeTrailer({ etag, contentType: opts.contentType, metadata: { ...opts.metadata } }),
      );
      if (durable) await handle.sync();
      await handle.close();
      return { tmp, etag };
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      if (!(body instanceof Uint8Array) && typeof body !== 'string') body.destroy();
      if (opts.signal?.aborted) throw abortedError(opts.signal, 'upload');
      throw toVmkitError(error, 'STORE', 'writing blob');
    }
  }

  /** Reads a small blob with synchronous calls; `null` when it is larger than `syncMax`. */
  function readSmallSync(container: string, name: string, path: string): StoredBlob | undefined | null {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
      throw toVmkitError(error, 'STORE', `reading blob ${container}/${name}`);
    }
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) return undefined;
      if (info.size > syncMax) return null;
      const all = Buffer.allocUnsafe(info.size);
      let off = 0;
      while (off < info.size) {
        const n = readSync(fd, all, off, info.size - off, off);
        if (n === 0) break;
        off += n;
      }
      return parseSmall(container, name, all.subarray(0, off), info.mtime);
    } finally {
      closeSync(fd);
    }
  }

  function parseSmall(container: string, name: string, all: Buffer, mtime: Date): StoredBlob {
    const label = `${container}/${name}`;
    const tLen = tryTrailerLength(all.subarray(Math.max(0, all.byteLength - TRAILER_TAIL)), all.byteLength);
    // A file without our trailer (put there by hand, or cut short) reads as plain content, so
    // its owner can still inspect it, and a truncated record is quarantined like any bad one.
    const contentLen = tLen === undefined ? all.byteLength : all.byteLength - TRAILER_TAIL - tLen;
    const trailer =
      tLen === undefined
        ? { etag: md5Etag(all), metadata: {} }
        : decodeTrailer(all.subarray(contentLen, contentLen + tLen), label);
    const content = all.subarray(0, contentLen);
    return stored(name, content.byteLength, trailer, mtime, {
      stream: () => bytesStream(content),
      bytes: async () => Uint8Array.from(content),
      text: () => content.toString('utf8'),
    });
  }

  async function readStored(container: string, name: string, path: string): Promise<StoredBlob | undefined> {
    if (syncMax > 0) {
      const small = readSmallSync(container, name, path);
      if (small !== null) return small;
    }
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
      throw toVmkitError(error, 'STORE', `reading blob ${container}/${name}`);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) return undefined;
      const label = `${container}/${name}`;
      if (info.size <= SMALL) return parseSmall(container, name, await handle.readFile(), info.mtime);
      const tail = Buffer.alloc(TRAILER_TAIL);
      await handle.read(tail, 0, TRAILER_TAIL, info.size - TRAILER_TAIL);
      const tLen = tryTrailerLength(tail, info.size);
      const contentLen = tLen === undefined ? info.size : info.size - TRAILER_TAIL - tLen;
      let trailer: { etag: string; contentType?: string; metadata: Readonly<Record<string, string>> };
      if (tLen === undefined) {
        trailer = { etag: `W/"${info.size}-${Math.trunc(info.mtimeMs)}"`, metadata: {} };
      } else {
        const json = Buffer.alloc(tLen);
        await handle.read(json, 0, tLen, contentLen);
        trailer = decodeTrailer(json, label);
      }
      const openStream = (): Readable => {
        // Opened anew by name: refuse if the name now points at another file (replaced after getBlob).
        const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
        if (fstatSync(fd).ino !== info.ino) {
          closeSync(fd);
          throw new VmkitError('CONFLICT', `blob ${label} changed since it was opened`, {
            details: { name },
          });
        }
        return createReadStream('', { fd, start: 0, end: contentLen - 1 });
      };
      return stored(name, contentLen, trailer, info.mtime, {
        stream: openStream,
        bytes: async () => {
          const chunks: Buffer[] = [];
          for await (const chunk of openStream()) chunks.push(chunk as Buffer);
          return Buffer.concat(chunks);
        },
      });
    } finally {
      await handle.close();
    }
  }

  /** Size of one listed blob, read from its trailer with synchronous calls (three syscalls). */
  function listItem(dir: string, name: string): BlobListItem | undefined {
    let fd: number;
    try {
      fd = openSync(join(dir, ...name.split('/')), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return undefined; // removed since the directory was read
    }
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) return undefined;
      const tail = Buffer.alloc(Math.min(TRAILER_TAIL, info.size));
      readSync(fd, tail, 0, tail.byteLength, info.size - tail.byteLength);
      const tLen = tryTrailerLength(tail, info.size);
      // A plain file (no trailer of ours) is listed whole, so that it is seen and can be dealt with.
      return {
        name,
        size: tLen === undefined ? info.size : info.size - TRAILER_TAIL - tLen,
        lastModified: info.mtime,
      };
    } finally {
      closeSync(fd);
    }
  }

  return {
    async createContainer(container) {
      await mkdir(containerDir(container), { recursive: true }).catch((error: unknown) => {
        throw toVmkitError(error, 'STORE', `creating container ${container}`);
      });
    },
    async containerExists(container) {
      const info = await stat(containerDir(container)).catch(() => undefined);
      return info?.isDirectory() ?? false;
    },
    async deleteContainer(container) {
      await rm(containerDir(container), { recursive: true, force: true });
    },
    async putBlob(container, name, body, opts: PutBlobOptions = {}) {
      const path = blobPath(container, name);
      checkMetadata(opts.metadata);
      const dir = await requireContainer(container);
      throwIfAborted(opts.signal, 'upload');
      sweepTemp();
      const { tmp, etag } = await writeTemp(body, opts);
      try {
        const parent = resolve(path, '..');
        // A concurrent removeBlob may drop an empty parent folder between mkdir and rename: retry.
        for (let attempt = 1; ; attempt++) {
          await mkdir(parent, { recursive: true });
          try {
            if (opts.ifNoneMatch === '*') {
              await link(tmp, path);
              await unlink(tmp);
            } else {
              await rename(tmp, path);
            }
            break;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw error;
          }
        }
        await syncDir(parent);
        return { etag };
      } catch (error) {
        await unlink(tmp).catch(() => {});
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' && opts.ifNoneMatch === '*') {
          throw new VmkitError('CONFLICT', `blob ${name} already exists in ${container}`, {
            details: { container, name },
          });
        }
        if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') {
          throw new VmkitError('CONFLICT', `blob ${name} clashes with another blob's path in ${container}`, {
            cause: error,
            details: { container, name, dir },
          });
        }
        throw toVmkitError(error, 'STORE', `writing blob ${container}/${name}`);
      }
    },
    async getBlob(container, name, opts) {
      const path = blobPath(container, name);
      throwIfAborted(opts?.signal, 'download');
      const blob = await readStored(container, name, path);
      // Only a miss needs to tell "no such blob" from "no such container".
      if (blob === undefined) await requireContainer(container);
      return blob;
    },
    async blobExists(container, name) {
      const path = blobPath(container, name);
      await requireContainer(container);
      const info = await stat(path).catch(() => undefined);
      return info?.isFile() ?? false;
    },
    async removeBlob(container, name) {
      const path = blobPath(container, name);
      const dir = await requireContainer(container);
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR')
          throw toVmkitError(error, 'STORE', `removing ${name}`);
      });
      // Drop folders the blob leaves empty, up to the container.
      for (let parent = resolve(path, '..'); parent.startsWith(dir + sep); parent = resolve(parent, '..')) {
        if (
          !(await rmdir(parent).then(
            () => true,
            () => false,
          ))
        )
          break;
      }
    },
    async list(container: string, opts: ListOptions = {}): Promise<ListPage> {
      const maxKeys = checkListOptions(opts);
      const dir = await requireContainer(container);
      const prefix = opts.prefix ?? '';
      const marker = opts.marker;
      const entries = await readdir(dir, { recursive: true, withFileTypes: true });
      const names: string[] = [];
      for (const entry of entries) {
        if (!entry.isFile()) continue;
        const parent = entry.parentPath ?? (entry as unknown as { path: string }).path;
        const rel =
          parent === dir
            ? entry.name
            : `${parent
                .slice(dir.length + 1)
                .split(sep)
                .join('/')}/${entry.name}`;
        if (rel.startsWith(prefix) && (marker === undefined || rel > marker)) names.push(rel);
      }
      names.sort();
      const page = names.slice(0, maxKeys);
      const items: BlobListItem[] = [];
      for (const [i, n] of page.entries()) {
        // Yield to the event loop every 100 items so a long page never blocks it for long.
        if (i % 100 === 99) await setImmediate();
        const item = listItem(dir, n);
        if (item) items.push(item);
      }
      return names.length > maxKeys ? { items, nextMarker: page[page.length - 1] } : { items };
    },
  };
}

function stored(
  name: string,
  size: number,
  trailer: { etag: string; contentType?: string; metadata: Readonly<Record<string, string>> },
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
