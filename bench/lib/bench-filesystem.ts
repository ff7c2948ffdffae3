// Where a bench puts the files it churns through (a store many processes write, staging copies),
// and what kind of filesystem that is. This machine's root filesystem is ext4 without a journal,
// whose inode allocator passes over recently deleted inodes one by one (`recently_deleted` under
// `find_inode_bit` in `perf`): a file created in a folder with many recent deletions, such as the
// system temp folder, costs 0.3-0.8 ms of system CPU here against about 20 us on a journaled ext4.
// A bench of many processes creating small files would measure that, not vmkit; so, when it can
// (root, `mkfs.ext4`, a loop device), the bench mounts a journaled ext4, as most hosts have, made
// afresh in a sparse image under `.vmkit/bench/`, and says which filesystem each figure used.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const REPO = resolve(import.meta.dirname, '..', '..');
const IMAGE_BYTES = 1024 ** 3;

/** A folder for a bench's files, on a named filesystem. */
export interface BenchFilesystem {
  /** An empty folder, writable by this process. */
  readonly dir: string;
  /** What the folder is on, e.g. `ext4 with a journal (a loop-mounted image)`. */
  readonly label: string;
  /** Removes the folder (and unmounts the filesystem made for it). */
  dispose(): Promise<void>;
}

/**
 * A fresh journaled ext4 mounted from a sparse image under `.vmkit/bench/`, or `undefined` (with
 * the reason on stderr) where one cannot be mounted: not root, no `mkfs.ext4`, no loop device.
 */
export async function journaledExt4(): Promise<BenchFilesystem | undefined> {
  if (process.getuid?.() !== 0) return skip('not root');
  const base = join(REPO, '.vmkit', 'bench');
  await mkdir(base, { recursive: true });
  await removeLeftovers(base);
  const image = join(base, `ext4-${process.pid}.img`);
  const mount = join(base, `ext4-${process.pid}-mnt`);
  await mkdir(mount);
  let mounted = false;
  try {
    await exec('truncate', ['-s', String(IMAGE_BYTES), image]);
    await exec('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', image]);
    await exec('mount', ['-o', 'loop', image, mount]);
    mounted = true;
    const dir = join(mount, 'bench');
    await mkdir(dir, { mode: 0o700 });
    return {
      dir,
      label: 'ext4 with a journal (a loop-mounted image)',
      async dispose() {
        await exec('umount', [mount]).catch((e: Error) => console.error(`umount ${mount}: ${e.message}`));
        await rm(mount, { recursive: true, force: true });
        await rm(image, { force: true });
      },
    };
  } catch (error) {
    if (mounted) await exec('umount', [mount]).catch(() => {});
    await rm(mount, { recursive: true, force: true });
    await rm(image, { force: true });
    return skip(error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error));
  }
}

/** A fresh folder in the system temp folder, labelled with the filesystem it is on. */
export async function systemTemp(prefix: string): Promise<BenchFilesystem> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    dir,
    label: `the system temp folder: ${describeFilesystem(dir)}`,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * The type of the filesystem holding `path`, from `/proc/mounts`; for ext4, whether it has a
 * journal (the kernel lists a journal's device under `/proc/fs/jbd2/`).
 */
export function describeFilesystem(path: string): string {
  let mounts: string[][];
  try {
    mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' '));
  } catch {
    return 'unknown';
  }
  const at = resolve(path);
  const best = mounts
    .filter(([, point]) => point && (at === point || at.startsWith(point === '/' ? '/' : `${point}/`)))
    .sort((a, b) => (b[1]?.length ?? 0) - (a[1]?.length ?? 0))[0];
  if (!best) return 'unknown';
  const [device = '', , type = 'unknown'] = best;
  if (type !== 'ext4') return type;
  const journaled = existsSync('/proc/fs/jbd2') && existsSync(`/proc/fs/jbd2/${basename(device)}-8`);
  return journaled ? 'ext4 with a journal' : 'ext4 without a journal';
}

/**
 * Unmounts and removes what a bench killed midway left in `base`: the images and mounts named
 * after a process that no longer runs.
 */
async function removeLeftovers(base: string): Promise<void> {
  const mounted = new Set(
    readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1]),
  );
  for (const entry of await readdir(base)) {
    const pid = Number(/^ext4-(\d+)(?:\.img|-mnt)$/.exec(entry)?.[1]);
    if (!pid || alive(pid)) continue;
    const path = join(base, entry);
    if (mounted.has(path)) await exec('umount', [path]).catch(() => {});
    await rm(path, { recursive: true, force: true }).catch(() => {});
  }
}

/** Whether process `pid` runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function skip(why: string): undefined {
  console.error(`bench: no journaled ext4 to run on (${why}); using the system temp folder`);
  return undefined;
}
