import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, openSync, rmSync } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The mode of a private file: only its owner reads and writes it. */
const PRIVATE_FILE_MODE = 0o600;

/** How the name of a new private file begins and ends around its random part. */
export interface PrivateFileName {
  /** Text before the random part (default none). */
  readonly prefix?: string;
  /** Text after the random part, such as `.iso` or `.tmp` (default none). */
  readonly suffix?: string;
}

/**
 * Creates the file `path`, which must not exist yet, as a private file: opened exclusively
 * (`O_EXCL`, so a file or symlink planted there is never written through) with mode 0600, set
 * again on the open file so that no umask leaves it unreadable to its owner. Returns the open
 * handle; the caller closes it.
 */
export async function openPrivateFile(path: string): Promise<FileHandle> {
  const handle = await open(path, 'wx', PRIVATE_FILE_MODE);
  try {
    await handle.chmod(PRIVATE_FILE_MODE);
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(path, { force: true });
    throw error;
  }
  return handle;
}

/**
 * `createPrivateFile` with synchronous calls (microseconds on a local disk, no thread-pool
 * round-trip, for small writes on a busy process): the same exclusive open, mode and name. Returns
 * its path and open file descriptor; the caller closes it.
 */
export function createPrivateFileSync(
  folder: string,
  name: PrivateFileName = {},
): { readonly path: string; readonly fd: number } {
  const path = join(folder, `${name.prefix ?? ''}${randomBytes(8).toString('hex')}${name.suffix ?? ''}`);
  const fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch (error) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw error;
  }
  return { path, fd };
}

/**
 * Creates a new private file ({@link openPrivateFile}) in `folder` under a name nobody can guess:
 * `prefix`, 16 random hex digits (64 bits), `suffix`. Returns its path and open handle.
 */
export async function createPrivateFile(
  folder: string,
  name: PrivateFileName = {},
): Promise<{ readonly path: string; readonly handle: FileHandle }> {
  const path = join(folder, `${name.prefix ?? ''}${randomBytes(8).toString('hex')}${name.suffix ?? ''}`);
  return { path, handle: await openPrivateFile(path) };
}

/**
 * Writes `data` to a new private file in `folder` (a random name, mode 0600, never an existing file) and closes it;
 * when writing fails (or `signal` aborts it) the file is removed. Returns its path.
 */
export async function writeNewPrivateFile(
  folder: string,
  name: PrivateFileName,
  data: Uint8Array | string,
  signal?: AbortSignal,
): Promise<string> {
  const { path, handle } = await createPrivateFile(folder, name);
  try {
    try {
      await handle.writeFile(data, signal ? { signal } : {});
    } finally {
      await handle.close();
    }
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return path;
}
