import { type Dirent, readdirSync, rmdirSync } from 'node:fs';
import { chmod, lstat, mkdir, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { invalidArgument, toVmkitError } from '../errors/vmkit-error.js';
import { throwIfAborted } from '../util/abort.js';
import type { BlobListItem, ListPage } from './blob-store.js';
import { FOLDER_MODE, FsBlobPaths } from './fs-blob-paths.js';
import { listBlobFile, readBlobFile, WHOLE_READ_MAX } from './fs-blob-reader.js';
import { watchBlobFile } from './fs-blob-watch.js';
import { FsBlobWriter } from './fs-blob-writer.js';

/** What reading a folder that another process removed meanwhile fails with. */
const GONE = new Set(['ENOENT', 'ENOTDIR']);

import { type ClosableBlobStore, guardBlobStore } from './guard-blob-store.js';

/** Options of {@link fileSystemBlobStore}. */
export interface FileSystemBlobStoreOptions {
  /** Directory holding one folder per container; created when missing. */
  readonly root: string;
  /** fsync files and directories on write (default true). Turn off only for throwaway data. */
  readonly durable?: boolean;
  /**
   * Blobs up to this size are read, and bodies given whole (a string or bytes) up to this size are
   * written, with synchronous calls (default 64 KiB; 0 turns it off; fsyncs stay asynchronous);
   * so is the trailer (up to this size) of a blob over 1 MiB, whose content is then streamed. On
   * a local disk that takes tens of microseconds and avoids the thread-pool round-trips of each
   * blob (four to read, eight to write), which makes loading thousands of small metadata blobs
   * several times faster, and a small write on a process busy streaming disks (whose reads keep
   * the pool queued) some tenfold faster.
   */
  readonly syncReadMaxBytes?: number;
}

/**
 * The default {@link BlobStore}: a directory per container, a file per blob. Writes go to a temp
 * file that is fsynced and renamed into place, so readers never see a partial blob; names are
 * checked so nothing escapes the root; listings are paginated in name order.
 */
export function fileSystemBlobStore(options: FileSystemBlobStoreOptions): ClosableBlobStore {
  if (!options || typeof options.root !== 'string' || options.root.length === 0) {
    throw invalidArgument('root', 'must be a non-empty directory path');
  }
  const root = resolve(options.root);
  const syncMax = options.syncReadMaxBytes ?? 64 * 1024;
  if (!Number.isInteger(syncMax) || syncMax < 0 || syncMax > WHOLE_READ_MAX) {
    throw invalidArgument('syncReadMaxBytes', `must be an integer from 0 to ${WHOLE_READ_MAX}`);
  }
  const paths = new FsBlobPaths(root);
  const writer = new FsBlobWriter(paths.tmpDir, options.durable ?? true, syncMax);

  return guardBlobStore(`the filesystem blob store at ${root}`, {
    async createContainer(container) {
      const dir = paths.containerDir(container);
      try {
        await mkdir(dir, { recursive: true, mode: FOLDER_MODE });
        await tightenFolder(dir);
      } catch (error) {
        throw toVmkitError(error, 'STORE', `creating container ${container}`);
      }
    },
    async containerExists(container) {
      const info = await stat(paths.containerDir(container)).catch(() => undefined);
      return info?.isDirectory() ?? false;
    },
    async deleteContainer(container) {
      // Retried while other processes write into the folders being removed (ENOTEMPTY).
      await rm(paths.containerDir(container), { recursive: true, force: true, maxRetries: 5 });
    },
    async putBlob(container, name, body, opts) {
      const path = paths.blobPath(container, name);
      const dir = await paths.requireContainer(container);
      throwIfAborted(opts.signal, 'upload');
      return { etag: await writer.write(path, { container, name, dir }, body, opts) };
    },
    async getBlob(container, name, opts) {
      const path = paths.blobPath(container, name);
      throwIfAborted(opts.signal, 'download');
      const blob = await readBlobFile(path, name, `${container}/${name}`, syncMax);
      // Only a miss needs to tell "no such blob" from "no such container".
      if (blob === undefined) await paths.requireContainer(container);
      return blob;
    },
    async blobExists(container, name) {
      const path = paths.blobPath(container, name);
      await paths.requireContainer(container);
      const info = await stat(path).catch(() => undefined);
      return info?.isFile() ?? false;
    },
    async removeBlob(container, name) {
      const path = paths.blobPath(container, name);
      const dir = await paths.requireContainer(container);
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR')
          throw toVmkitError(error, 'STORE', `removing ${name}`);
      });
      removeEmptyFolders(path, dir);
    },
    async watchBlob(container, name, signal) {
      await watchBlobFile(paths.containerDir(container), paths.blobPath(container, name), signal);
    },
    async list(container, opts): Promise<ListPage> {
      const dir = await paths.requireContainer(container);
      const names = await blobNames(dir, opts.prefix ?? '', opts.marker);
      const page = names.slice(0, opts.maxKeys);
      const items: BlobListItem[] = [];
      for (const [i, n] of page.entries()) {
        // Yield to the event loop every 100 items so a long page never blocks it for long.
        if (i % 100 === 99) await setImmediate();
        const item = listBlobFile(dir, n);
        if (item) items.push(item);
      }
      return names.length > opts.maxKeys ? { items, nextMarker: page[page.length - 1] } : { items };
    },
  });
}

/**
 * Takes group and other permissions off a container folder that this user owns, such as one an
 * earlier version made 0755: its blobs (some made 0644 then) become private without a rewrite.
 * Folders of other owners, and symbolic links, are left as they are.
 */
async function tightenFolder(dir: string): Promise<void> {
  const info = await lstat(dir);
  if (!info.isDirectory() || (info.mode & 0o077) === 0) return;
  if (info.uid !== process.getuid?.()) return;
  await chmod(dir, FOLDER_MODE);
}

/**
 * Drops the folders a removed blob leaves empty, up to the container's. Synchronous, like the
 * writer's moves into place: a `rmdir` is a metadata update of microseconds, where an asynchronous
 * one waits for a thread of the pool (which a busy process keeps queued).
 */
function removeEmptyFolders(path: string, dir: string): void {
  for (let parent = resolve(path, '..'); parent.startsWith(dir + sep); parent = resolve(parent, '..')) {
    try {
      rmdirSync(parent);
    } catch {
      break; // not empty (or gone, or another process's new blob is in it): keep the rest
    }
  }
}

/**
 * The names of the blobs in container folder `dir` with `prefix` and after `marker`, sorted. The
 * walk starts at the prefix's deepest folder and skips folders outside the prefix. Other processes
 * remove blobs and prune emptied folders meanwhile: a folder gone before it is read is empty.
 * Each folder is read with one synchronous call (no thread-pool round-trip, like the reads of the
 * listed files' trailers); a walk of many folders yields to the event loop every 64.
 */
async function blobNames(dir: string, prefix: string, marker: string | undefined): Promise<string[]> {
  const names: string[] = [];
  let folders = 0;
  const walk = async (rel: string): Promise<void> => {
    // Folders are read synchronously; a walk of many yields to the event loop every 64 of them.
    if (++folders % 64 === 0) await setImmediate();
    let entries: Dirent[];
    try {
      entries = readdirSync(join(dir, ...rel.split('/')), { withFileTypes: true });
    } catch (error) {
      if (GONE.has((error as NodeJS.ErrnoException).code ?? '')) return;
      throw error;
    }
    for (const entry of entries) {
      const name = `${rel}${entry.name}`;
      if (entry.isDirectory()) {
        if (`${name}/`.startsWith(prefix) || prefix.startsWith(`${name}/`)) await walk(`${name}/`);
      } else if (entry.isFile() && name.startsWith(prefix) && (marker === undefined || name > marker)) {
        names.push(name);
      }
    }
  };
  await walk(prefix.slice(0, prefix.lastIndexOf('/') + 1));
  return names.sort();
}
