import { lstatSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';
import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';

/** Mode of every folder the store creates (containers, blob-name folders, `.tmp`). */
export const FOLDER_MODE = 0o700;

/**
 * Where the filesystem store keeps things under its root: a folder per container, a file per
 * blob (its name's `/`-segments as folders), temp files in `.tmp`. Names arrive checked by the
 * guard; this still refuses any path that would leave the root or pass through a symbolic link.
 */
export class FsBlobPaths {
  /** The store's root directory (absolute). */
  readonly root: string;
  /** Where blobs are written before being renamed into place. */
  readonly tmpDir: string;

  constructor(root: string) {
    this.root = root;
    this.tmpDir = join(root, '.tmp');
  }

  /** The folder of a container. */
  containerDir(container: string): string {
    return join(this.root, container);
  }

  /** The file of a blob, after refusing one that escapes the container or passes a symbolic link. */
  blobPath(container: string, name: string): string {
    const dir = this.containerDir(container);
    const path = join(dir, ...name.split('/'));
    if (!path.startsWith(dir + sep) || isAbsolute(name))
      throw invalidArgument('name', 'escapes the container');
    this.#assertNoLinks(container, name);
    return path;
  }

  /**
   * The container's folder; `NOT_FOUND` when it does not exist, `CORRUPT` when it is a link. One
   * synchronous `lstat`, as for the folders of a blob's name: no thread-pool round-trip.
   */
  async requireContainer(container: string): Promise<string> {
    const dir = this.containerDir(container);
    let info: ReturnType<typeof lstatSync>;
    try {
      info = lstatSync(dir, { throwIfNoEntry: false });
    } catch {
      info = undefined;
    }
    if (info?.isSymbolicLink()) throw followsLink(dir, { container });
    if (!info?.isDirectory()) {
      throw new VmkitError('NOT_FOUND', `container ${container} does not exist`, { details: { container } });
    }
    return dir;
  }

  /**
   * Refuses a path whose folders (the container's or the blob name's) include a symbolic link:
   * following one would read or write outside the root.
   */
  #assertNoLinks(container: string, name: string): void {
    let at = this.containerDir(container);
    const folders = name.split('/').slice(0, -1);
    for (let i = 0; ; i++) {
      let info: ReturnType<typeof lstatSync> | undefined;
      try {
        // No exception for a missing folder (a pruned lease folder is one per write): none to build.
        info = lstatSync(at, { throwIfNoEntry: false });
      } catch {
        info = undefined; // ENOTDIR: a file on the way, which the write or read then reports
      }
      if (!info) return; // missing from here down: nothing to follow
      if (info.isSymbolicLink()) throw followsLink(at, { container, name });
      if (i >= folders.length) return;
      at = join(at, folders[i] as string);
    }
  }
}

function followsLink(path: string, details: Record<string, unknown>): VmkitError {
  return new VmkitError('CORRUPT', `the store refuses to follow the symbolic link ${path}`, { details });
}
