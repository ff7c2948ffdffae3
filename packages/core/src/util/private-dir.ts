import { lstat, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { invalidArgument } from '../errors/vmkit-error.js';

/**
 * The user's cache folder, home of vmkit's private working folders: `$XDG_CACHE_HOME` when set to
 * an absolute path, else `~/.cache`. Not `$XDG_RUNTIME_DIR`: that is a small tmpfs emptied at
 * logout, unfit for disk images, and records and images must outlive a restart.
 */
export function userCacheHome(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
}

/**
 * The user's state folder, home of what vmkit keeps between runs but is not a cache (the
 * credentials it makes): `$XDG_STATE_HOME` when set to an absolute path, else `~/.local/state`.
 */
export function userStateHome(): string {
  const xdg = process.env.XDG_STATE_HOME;
  return xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state');
}

/** Options of {@link ensurePrivateDir}. */
export interface PrivateDirOptions {
  /** The option that chose the folder (or would change it), named in the error. */
  readonly field: string;
  /**
   * A folder above `dir` that is trusted as it is (e.g. `~/.cache`): the folders between it and
   * `dir` are created and checked too. Without it only `dir` itself is.
   */
  readonly base?: string;
}

/**
 * Makes a private working folder ready: creates `dir` (and the folders between `options.base` and
 * it) with mode 0700 when missing, and checks each with `lstat`, top down: a real folder (not a
 * symbolic link), owned by the current user, with no group or other permission bits. A folder
 * failing is refused with `INVALID_ARGUMENT` naming `options.field`, the folder, why, and what to
 * do. Checked top down so that once a folder passes, nobody else can swap what lies below it.
 *
 * @returns `dir`, resolved.
 */
export async function ensurePrivateDir(dir: string, options: PrivateDirOptions): Promise<string> {
  const target = resolve(dir);
  const base = options.base === undefined ? undefined : resolve(options.base);
  const chain: string[] = [target];
  if (base !== undefined) {
    const rel = relative(base, target);
    if (rel === '' || rel.startsWith('..') || rel.startsWith(sep))
      throw invalidArgument(options.field, `${target} does not lie below ${base}`);
    for (let at = dirname(target); at !== base; at = dirname(at)) chain.unshift(at);
  }
  // The trusted part is made as usual; below it, one folder at a time, each checked before the
  // next is made in it, so nothing is ever created through a link or in someone else's folder.
  await mkdir(dirname(chain[0] as string), { recursive: true, mode: 0o700 });
  for (const folder of chain) {
    await mkdir(folder, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    await checkPrivateDir(folder, options.field);
  }
  return target;
}

/** Refuses (with `INVALID_ARGUMENT` naming `field`) a folder that is not private to the current user. */
export async function checkPrivateDir(folder: string, field: string): Promise<void> {
  const info = await lstat(folder);
  const uid = process.getuid?.();
  let problem: string | undefined;
  if (info.isSymbolicLink()) problem = 'is a symbolic link';
  else if (!info.isDirectory()) problem = 'is not a folder';
  else if (uid !== undefined && info.uid !== uid)
    problem = `is owned by uid ${info.uid}, not by you (uid ${uid})`;
  else if ((info.mode & 0o077) !== 0)
    problem = `has mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}: group or others may use it`;
  if (problem === undefined) return;
  throw invalidArgument(
    field,
    `the working folder ${folder} ${problem}; a private working folder must be a real folder of ` +
      `yours with mode 0700 (someone else may have made it to read or plant files): remove it ` +
      `(or chmod 700 it if it is yours and safe) and run again, or choose another folder with ${field}`,
    { rule: 'private-folder', path: folder },
  );
}
