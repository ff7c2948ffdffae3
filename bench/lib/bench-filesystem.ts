// Where a bench puts the files it churns through (a store many processes write, staging copies),
// and what kind of filesystem that is. This machine's root filesystem is ext4 without a journal,
// whose inode allocator passes over recently deleted inodes one by one (`recently_deleted` under
// `find_inode_bit` in `perf`): a file created in a folder with many recent deletions, such as the
// system temp folder, costs about 0.5-0.8 ms of system CPU here against about 20 us on a journaled
// ext4. A bench of many processes creating small files would measure that, not vmkit; so, when it
// can (root, `mkfs.ext4`, a loop device), the bench mounts a journaled ext4, as most hosts have,
// made afresh in a sparse image under `.vmkit/bench/`, and says which filesystem each figure used.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { processAlive } from '../../packages/core/src/ports/lease-files.js';

const exec = promisify(execFile);
const REPO = resolve(import.meta.dirname, '..', '..');
const IMAGE_BYTES = 1024 ** 3;
/** The image and mount point of the bench of process `<pid>`. */
const OWN = /^ext4-(\d+)(\.img|-mnt)$/;

/** A folder for a bench's files, on a named filesystem. */
export interface BenchFilesystem {
  /** An empty folder, writable by this process. */
  readonly dir: string;
  /** What the folder is on, e.g. `ext4 with a journal (a loop-mounted image)`. */
  readonly label: string;
  /** Removes the folder (and unmounts the filesystem made for it). Never throws. */
  dispose(): Promise<void>;
}

/**
 * A fresh journaled ext4 mounted from a sparse image under `.vmkit/bench/`, or `undefined` (with
 * the reason on stderr) where one cannot be made: not root, no `mkfs.ext4`, no loop device.
 */
export async function journaledExt4(): Promise<BenchFilesystem | undefined> {
  if (process.getuid?.() !== 0) return skip('not root');
  const base = join(REPO, '.vmkit', 'bench');
  const image = join(base, `ext4-${process.pid}.img`);
  const mount = join(base, `ext4-${process.pid}-mnt`);
  try {
    await mkdir(base, { recursive: true });
    await removeLeftovers(base);
    await mkdir(mount);
    await exec('truncate', ['-s', String(IMAGE_BYTES), image]);
    await exec('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', image]);
    await exec('mount', ['-o', 'loop', image, mount]);
    const dir = join(mount, 'bench');
    await mkdir(dir, { mode: 0o700 });
    return {
      dir,
      label: 'ext4 with a journal (a loop-mounted image)',
      dispose: () => unmountAndRemove(mount, image),
    };
  } catch (error) {
    await unmountAndRemove(mount, image);
    return skip(error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error));
  }
}

/** A fresh folder in the system temp folder, labelled with the filesystem it is on. */
export async function systemTemp(prefix: string): Promise<BenchFilesystem> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    dir,
    label: `the system temp folder: ${describeFilesystem(dir)}`,
    dispose: () => rm(dir, { recursive: true, force: true }).catch(() => {}),
  };
}

/**
 * The type of the filesystem holding `path` (the mount of its device in `/proc/self/mountinfo`);
 * for ext4, whether it has a journal (the kernel lists a journal under `/proc/fs/jbd2/` by the
 * device's kernel name, found through `/sys/dev/block/<major>:<minor>`).
 */
function describeFilesystem(path: string): string {
  try {
    const dev = statSync(path).dev;
    const major = (dev >>> 8) & 0xfff;
    const minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00);
    const id = `${major}:${minor}`;
    const line = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[2] === id);
    const type = line?.split(' - ')[1]?.split(' ')[0] ?? 'unknown';
    if (type !== 'ext4') return type;
    const kernelName = basename(realpathSync(`/sys/dev/block/${id}`));
    return existsSync(`/proc/fs/jbd2/${kernelName}-8`) ? 'ext4 with a journal' : 'ext4 without a journal';
  } catch {
    return 'unknown';
  }
}

/**
 * Unmounts `mount` (lazily when busy) and removes it and `image`; when it stays mounted, leaves
 * both and says so (never a recursive removal across a mount).
 */
async function unmountAndRemove(mount: string, image: string): Promise<void> {
  if (isMounted(mount)) {
    await exec('umount', [mount]).catch(() => exec('umount', ['-l', mount]).catch(() => {}));
    if (isMounted(mount)) {
      console.error(`bench: ${mount} is still mounted; left it and ${image} (umount it by hand)`);
      return;
    }
  }
  await rmdir(mount).catch(() => {});
  await rm(image, { force: true }).catch(() => {});
}

/** Whether `path` is a mount point (its entry in `/proc/self/mountinfo`, octal escapes decoded). */
function isMounted(path: string): boolean {
  const decoded = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => decoded(line.split(' ')[4] ?? '') === path);
}

/**
 * Unmounts and removes what a bench killed midway left in `base`: the image and mount point
 * named after a process that no longer runs (or after this one, whose own are not made yet: pid
 * numbers come round again after a reboot).
 */
async function removeLeftovers(base: string): Promise<void> {
  const pids = new Set<number>();
  for (const entry of await readdir(base)) {
    const pid = Number(OWN.exec(entry)?.[1]);
    if (pid && (pid === process.pid || !processAlive(pid))) pids.add(pid);
  }
  for (const pid of pids)
    await unmountAndRemove(join(base, `ext4-${pid}-mnt`), join(base, `ext4-${pid}.img`));
}

function skip(why: string): undefined {
  console.error(`bench: no journaled ext4 to run on (${why}); using the system temp folder`);
  return undefined;
}
