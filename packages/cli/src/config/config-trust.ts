import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { invalidArgument } from '@vmkit/core/spi';

/** Mode bits that let a file's group or everyone write it. */
const GROUP_OR_WORLD_WRITABLE = 0o022;
/** The sticky bit: in such a folder only an entry's owner may rename or remove it. */
const STICKY = 0o1000;

/** Whose files a config may come from: root and the user running vmkit. */
interface Trust {
  readonly uid: number;
}

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

function refuse(file: string, why: string, fix: string): never {
  throw invalidArgument(file, `refused as a vmkit config: ${why}; ${fix}`, { reason: why });
}

function trusted(owner: number, trust: Trust): boolean {
  return owner === 0 || owner === trust.uid;
}

/**
 * Checks that only root and the current user can have written `file` (a config about to be
 * read or, for `.mjs`, run): the file is a regular file owned by one of them and not writable by
 * its group or others; every folder from the file's own up to `/` is owned by one of them; the
 * file's own folder is not writable by group or others; a folder further up may be only when it
 * is sticky (as `/tmp`) and the entry below it is owned by root or the user, so nobody else can
 * swap it. Symbolic links are followed, and both the path as given and the real path are checked.
 * A file that fails is `INVALID_ARGUMENT` naming it, saying why and how to fix it. On systems
 * without user ids (Windows) nothing is checked.
 */
export async function assertTrustedConfigFile(file: string): Promise<void> {
  const uid = process.geteuid?.();
  if (uid === undefined) return;
  const trust: Trust = { uid };
  const given = resolve(file);
  const real = await realpath(given);
  const info = await stat(real);
  if (!info.isFile()) refuse(given, 'it is not a regular file', 'name a vmkit.config.json or .mjs file');
  if (!trusted(info.uid, trust))
    refuse(
      given,
      `it is owned by uid ${info.uid}, not by you (uid ${uid}) or root, so another user may have planted it`,
      'remove it if it is not yours, or take it over (chown) once you have read it',
    );
  if (info.mode & GROUP_OR_WORLD_WRITABLE)
    refuse(
      given,
      `it is writable by its group or others (mode ${octal(info.mode)})`,
      `make it writable by its owner only (chmod go-w ${real})`,
    );
  await assertTrustedFolders(given, given, trust);
  if (real !== given) await assertTrustedFolders(given, real, trust);
}

/** Checks the folders holding `path`, from its own up to `/` (see {@link assertTrustedConfigFile}). */
async function assertTrustedFolders(file: string, path: string, trust: Trust): Promise<void> {
  let child = path;
  let dir = dirname(path);
  for (let own = true; ; own = false) {
    const info = await stat(dir);
    if (!trusted(info.uid, trust))
      refuse(
        file,
        `the folder ${dir} is owned by uid ${info.uid}, not by you (uid ${trust.uid}) or root, so that user can replace what it holds`,
        'keep your config in folders that you or root own',
      );
    if (info.mode & GROUP_OR_WORLD_WRITABLE) {
      if (own)
        refuse(
          file,
          `its folder ${dir} is writable by group or others (mode ${octal(info.mode)}), so another user may have put it there or may replace it`,
          `keep your config in a folder only you can write (chmod go-w ${dir}, or move the project)`,
        );
      if (!(info.mode & STICKY))
        refuse(
          file,
          `the folder ${dir} above it is writable by group or others without the sticky bit (mode ${octal(info.mode)}), so another user can swap the folders below it`,
          `chmod go-w ${dir} (or +t), or move the project`,
        );
      const entry = await lstat(child);
      if (!trusted(entry.uid, trust))
        refuse(
          file,
          `${child} is owned by uid ${entry.uid} in the shared folder ${dir}, so that user can replace it`,
          'keep your config below a folder that you or root own',
        );
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    child = dir;
    dir = parent;
  }
}
