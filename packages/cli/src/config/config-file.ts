import { access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { invalidArgument } from '@vmkit/core/spi';

/** The names looked for in each directory, in this order. */
export const CONFIG_FILE_NAMES = Object.freeze(['vmkit.config.json', 'vmkit.config.mjs']);

/** Finds the nearest config file from `cwd` up to the root; `undefined` when there is none. */
export async function findConfigFile(cwd: string): Promise<string | undefined> {
  let dir = resolve(cwd);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const file = join(dir, name);
      if (await exists(file)) return file;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Reads a config file: JSON, or an ES module whose default export is the config (or a function,
 * possibly async, returning it). A file that cannot be read or parsed is `INVALID_ARGUMENT`
 * naming the file.
 */
export async function readConfigFile(file: string): Promise<unknown> {
  try {
    if (file.endsWith('.json')) {
      const { readFile } = await import('node:fs/promises');
      return JSON.parse(await readFile(file, 'utf8')) as unknown;
    }
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    const value = mod.default;
    return typeof value === 'function' ? await (value as () => unknown)() : value;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw invalidArgument(file, `cannot be read as a vmkit config (${reason})`, { file }, { cause: error });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
