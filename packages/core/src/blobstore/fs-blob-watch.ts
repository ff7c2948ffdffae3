import { type FSWatcher, lstatSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Resolves when the blob file at `path` (inside `containerDir`) may have changed, or when `signal`
 * aborts (see `BlobStore.watchBlob`). The file's folder is watched for its name (a write renames
 * a temp file into place, a removal unlinks it); while that folder does not exist yet, the
 * nearest one that does is watched for the next folder down, and its creation wakes the caller,
 * who looks and watches again. A watched folder that goes (the store prunes empty folders) wakes
 * the caller too. Where nothing can be watched (no container folder, no inotify), the promise
 * stays pending until the abort: callers poll anyway.
 */
export function watchBlobFile(containerDir: string, path: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    let watcher: FSWatcher | undefined;
    const done = (): void => {
      watcher?.close();
      watcher = undefined;
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    let dir = dirname(path);
    let entry = basename(path);
    while (dir.length >= containerDir.length) {
      try {
        const watched = dir;
        const wanted = entry;
        watcher = watch(watched, { persistent: false }, (_event, filename) => {
          if (filename === null || filename === wanted || !isFolder(watched)) done();
        });
        watcher.on('error', done);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') return;
        if (dir === containerDir) return;
        entry = basename(dir);
        dir = dirname(dir);
      }
    }
  });
}

/** Whether `dir` is still a folder (not removed, not replaced by a link). */
function isFolder(dir: string): boolean {
  try {
    return lstatSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}
