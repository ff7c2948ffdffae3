import { lstat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { invalidArgument, VmkitError } from '@vmkit/core/spi';
import { assertTrustedConfigFile } from './config-trust.js';

/** The names looked for in each directory, in this order. */
export const CONFIG_FILE_NAMES = Object.freeze(['vmkit.config.json', 'vmkit.config.mjs']);

/**
 * Finds the nearest config file from `cwd` upwards; `undefined` when there is none. The search
 * stops at the first folder that is the user's home (`home`) or a repository root (holding
 * `.git`), after looking in it, and never goes above it; without either above `cwd` it goes up
 * to `/`. Whatever it finds still has to pass {@link assertTrustedConfigFile} before it is read.
 */
export async function findConfigFile(cwd: string, home: string = homedir()): Promise<string | undefined> {
  const stop = resolve(home);
  let dir = resolve(cwd);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const file = join(dir, name);
      if (await exists(file)) return file;
    }
    if (dir === stop || (await exists(join(dir, '.git')))) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Reads a config file: JSON, or an ES module whose default export is the config (or a function,
 * possibly async, returning it). The file is first checked by {@link assertTrustedConfigFile}:
 * one that another user could have written is refused before anything of it is read or run. A
 * file that cannot be read or parsed is `INVALID_ARGUMENT` naming the file.
 */
export async function readConfigFile(file: string): Promise<unknown> {
  try {
    await assertTrustedConfigFile(file);
  } catch (error) {
    throw VmkitError.is(error) ? error : unreadable(file, error);
  }
  try {
    if (file.endsWith('.json')) {
      const { readFile } = await import('node:fs/promises');
      return JSON.parse(await readFile(file, 'utf8')) as unknown;
    }
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    const value = mod.default;
    return typeof value === 'function' ? await (value as () => unknown)() : value;
  } catch (error) {
    throw unreadable(file, error);
  }
}

function unreadable(file: string, error: unknown): VmkitError {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return invalidArgument(file, `cannot be read as a vmkit config (${reason})`, { file }, { cause: error });
}

/** Whether anything (a dangling link too) is at `file`. */
export async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}
