import { link, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { invalidArgument } from '../errors/vmkit-error.js';
import type { CredentialStore } from '../model/credential-store.js';
import { checkPrivateDir, ensurePrivateDir } from '../util/private-dir.js';
import { createPrivateFile } from '../util/private-file.js';
import { checkCredentialKey } from './credential-key.js';

/** Options of {@link fileCredentialStore}. */
export interface FileCredentialStoreOptions {
  /** The folder of the store: made with mode 0700 when missing, refused when others may use it. */
  readonly directory: string;
  /** A folder above `directory` trusted as it is (the folders between are made 0700 and checked). */
  readonly base?: string;
  /** The option that chose the folder, named in errors (default `credentials.directory`). */
  readonly field?: string;
}

/**
 * A {@link CredentialStore} that can also store a value only when none is there yet. vmkit uses
 * `putIfAbsent` when a store has it, so processes sharing the store keep one key pair per group.
 */
export interface ExclusiveCredentialStore extends CredentialStore {
  /**
   * Stores `value` under `key` unless a value is there already; returns the value stored now
   * (`value`, or the one another writer stored first).
   */
  putIfAbsent(key: string, value: string): Promise<string>;
}

/**
 * A {@link CredentialStore} of files: one file per key under `directory` (a key's `/` makes
 * subfolders), folders mode 0700 and checked private, files mode 0600. A value is written to a
 * temporary private file and renamed into place, so a reader sees the old value or the new one,
 * never a part. Keys are checked: no `..`, no absolute path, no hidden names.
 *
 * @example
 * ```ts
 * const credentials = fileCredentialStore({ directory: '/var/lib/my-app/vmkit-credentials' });
 * const service = await createComputeService({ provider: memoryProvider(), credentials });
 * ```
 */
export function fileCredentialStore(options: FileCredentialStoreOptions): ExclusiveCredentialStore {
  const field = options.field ?? 'credentials.directory';
  if (typeof options.directory !== 'string' || options.directory.length === 0) throw invalidDirectory(field);
  const root = options.directory;
  let ready: Promise<string> | undefined;
  const rootReady = () => {
    ready ??= ensurePrivateDir(root, { field, ...(options.base ? { base: options.base } : {}) });
    return ready.catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
  };
  /** The file of `key`, with its folder made and checked. */
  const fileOf = async (key: string): Promise<string> => {
    const segments = checkCredentialKey(key);
    const top = await rootReady();
    const folder = segments.length > 1 ? join(top, ...segments.slice(0, -1)) : top;
    if (folder !== top) await ensurePrivateDir(folder, { field, base: top });
    return join(folder, segments.at(-1) as string);
  };
  /**
   * The file of `key` for reading or removing: nothing is made (a store never written to stays
   * absent), but a folder that exists must be private, or the store refuses to read it.
   */
  const existingFileOf = async (key: string): Promise<string | undefined> => {
    const segments = checkCredentialKey(key);
    const top = resolve(root);
    try {
      await checkPrivateDir(top, field);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return join(top, ...segments);
  };
  /** Writes `value` to a new private file beside `path` and hands it to `place`; removes it after. */
  const staged = async (path: string, value: string, place: (temp: string) => Promise<void>) => {
    const folder = dirname(path);
    const { path: temp, handle } = await createPrivateFile(folder, { prefix: '.tmp-' });
    try {
      try {
        await handle.writeFile(value, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await place(temp);
    } finally {
      await rm(temp, { force: true });
    }
  };
  return {
    async get(key) {
      const path = await existingFileOf(key);
      if (path === undefined) return undefined;
      try {
        return await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async put(key, value) {
      checkValue(value);
      const path = await fileOf(key);
      await staged(path, value, (temp) => rename(temp, path));
    },
    async putIfAbsent(key, value) {
      checkValue(value);
      const path = await fileOf(key);
      let won = true;
      await staged(path, value, (temp) =>
        // link() never replaces: of two writers, exactly one places its file.
        link(temp, path).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error;
          won = false;
        }),
      );
      return won ? value : await readFile(path, 'utf8');
    },
    async delete(key) {
      const path = await existingFileOf(key);
      if (path !== undefined) await rm(path, { force: true });
    },
  };
}

function checkValue(value: unknown): void {
  // The value is a secret: the error says what is wrong with it, never what it is.
  if (typeof value !== 'string') throw invalidArgument('value', 'must be a string');
}

function invalidDirectory(field: string) {
  return invalidArgument(field, 'must be a non-empty path');
}
