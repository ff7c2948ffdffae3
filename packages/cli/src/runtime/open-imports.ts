import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ComputeService } from '@vmkit/core';
import { ensurePrivateDir, userCacheHome } from '@vmkit/core/internal';
import type { ImportService } from '@vmkit/import';
import type { S3StoreConfig } from '../config/config-schema.js';
import type { Settings } from '../config/settings.js';

/** Where `vmkit import` and `vmkit export` keep their local files. */
export interface ImportPlaces {
  /**
   * Root: `<store dir>/.import`, or with an S3 store a private folder of the user's,
   * `<user cache>/vmkit/cli-import/s3-<16 hex of the bucket's identity>`.
   */
  readonly home: string;
  /** Temporary files of running tasks (`--scratch`, default `<home>/scratch`). */
  readonly scratchDir: string;
  /** Imported images' qcow2 disks (`<home>/images`). */
  readonly imageDir: string;
  /** Logs of imports running in the background. */
  readonly logDir: string;
  /** Held by the one process running import tasks on this store. */
  readonly lockFile: string;
}

/**
 * The import service's local directories for these settings. With a directory store they sit in
 * its `.import` folder (a name no blob container can take); with an S3 store in a private folder
 * under the user's cache folder, one per bucket (never a shared, predictable temporary folder that
 * another user could make first). `scratch` (the `--scratch` flag) moves the temporary files only.
 */
export function importPlaces(settings: Settings, scratch?: string, cwd = process.cwd()): ImportPlaces {
  const home =
    'dir' in settings.store ? join(settings.store.dir, '.import') : s3ImportHome(settings.store.s3);
  return {
    home,
    scratchDir: scratch ? resolve(cwd, scratch) : join(home, 'scratch'),
    imageDir: join(home, 'images'),
    logDir: join(home, 'logs'),
    lockFile: join(home, 'lock'),
  };
}

function s3ImportHome(s3: S3StoreConfig): string {
  const where = [s3.endpoint ?? '', s3.bucket, s3.prefix ?? ''].join('\n');
  const identity = createHash('sha256').update(where).digest('hex').slice(0, 16);
  return join(userCacheHome(), 'vmkit', 'cli-import', `s3-${identity}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** Makes the import home: private and checked under the user's cache folder, else made 0700 when missing. */
async function ensureImportHome(places: ImportPlaces): Promise<void> {
  if (places.home.startsWith(join(userCacheHome(), 'vmkit'))) {
    await ensurePrivateDir(places.home, { field: 'store', base: userCacheHome() });
  } else {
    await mkdir(places.home, { recursive: true, mode: 0o700 });
  }
}

/**
 * Takes the lock file for this process: import tasks run inside the process that started them,
 * and a service opening the same records marks the tasks it finds active as failed, so one
 * process at a time. A lock left by a dead process is taken over. `CONFLICT` otherwise.
 */
export async function lockImports(places: ImportPlaces): Promise<() => Promise<void>> {
  const { VmkitError } = await import('@vmkit/core');
  await ensureImportHome(places);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(places.lockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        const owner = await readFile(places.lockFile, 'utf8').catch(() => '');
        if (Number(owner) === process.pid) await unlink(places.lockFile).catch(() => undefined);
      };
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      const pid = Number((await readFile(places.lockFile, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new VmkitError(
          'CONFLICT',
          `another vmkit import or export (pid ${pid}) is running on this store (${places.lockFile}); wait for it to finish`,
          { details: { pid, lockFile: places.lockFile } },
        );
      }
      await unlink(places.lockFile).catch(() => undefined);
    }
  }
  throw new VmkitError('CONFLICT', `cannot take ${places.lockFile}`, {
    details: { lockFile: places.lockFile },
  });
}

/**
 * Opens the import service's records for reading, without the lock, while another process may be
 * running tasks on the store: its scratch folder is a new one of its own (removed on close), so
 * its start-up touches nothing of the running process's (whose live tasks recovery leaves alone).
 * Start no task with it.
 */
export async function openImportRecords(settings: Settings, cwd: string): Promise<OpenImports> {
  const places = importPlaces(settings, undefined, cwd);
  await ensureImportHome(places);
  const scratchDir = await mkdtemp(join(places.home, 'view-'));
  try {
    const [{ createImportService }, { openStore }] = await Promise.all([
      import('@vmkit/import'),
      import('./open-service.js'),
    ]);
    const service = await createImportService({
      store: await openStore(settings),
      scratchDir,
      imageDir: places.imageDir,
    });
    return {
      service,
      places,
      async close() {
        try {
          await service.close();
        } finally {
          await rm(scratchDir, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(scratchDir, { recursive: true, force: true });
    throw error;
  }
}

/** The pid in the store's import lock when that process is alive, else `undefined`. */
export async function importLockOwner(places: ImportPlaces): Promise<number | undefined> {
  const pid = Number((await readFile(places.lockFile, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

/** An open import service with what must be closed after it. */
export interface OpenImports {
  /** The import service, its records in the settings' store. */
  readonly service: ImportService;
  /** Its local directories. */
  readonly places: ImportPlaces;
  /** Closes the service (live tasks stop), the compute service if any, and releases the lock. */
  close(): Promise<void>;
}

/**
 * Opens `@vmkit/import`'s service on the settings' store (container `vmkit-import`), under the
 * lock. With `register`, completed imports become masters of the compute service (libvirt).
 */
export async function openImports(
  settings: Settings,
  options: { scratch?: string; register?: boolean; cwd: string },
): Promise<OpenImports> {
  const places = importPlaces(settings, options.scratch, options.cwd);
  const unlock = await lockImports(places);
  let compute: ComputeService | undefined;
  try {
    const [{ createImportService }, { openStore, openService }] = await Promise.all([
      import('@vmkit/import'),
      import('./open-service.js'),
    ]);
    if (options.register) compute = await openService(settings);
    const service = await createImportService({
      store: await openStore(settings),
      scratchDir: places.scratchDir,
      imageDir: places.imageDir,
      ...(compute ? { compute } : {}),
    });
    return {
      service,
      places,
      async close() {
        try {
          await service.close();
          await compute?.close();
        } finally {
          await unlock();
        }
      },
    };
  } catch (error) {
    await compute?.close().catch(() => undefined);
    await unlock();
    throw error;
  }
}
