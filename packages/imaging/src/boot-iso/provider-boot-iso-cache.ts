import { randomBytes } from 'node:crypto';
import { copyFile, link, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OperationOptions } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';
import { type BootIsoCache, bootIsoCache } from './boot-iso-cache.js';

/** Bytes of remastered ISOs a provider's own cache keeps (4 GiB). */
export const PROVIDER_BOOT_ISO_CACHE_BYTES = 4 * 1024 ** 3;

/** The boot ISO cache a provider remasters through, and how to let it go. */
export interface ProviderBootIsoCache {
  /** The cache: the caller's, or one of the provider's own. */
  readonly cache: BootIsoCache;
  /** The folder of a cache the provider made for itself; `undefined` for a caller's cache. */
  readonly ownFolder: string | undefined;
  /**
   * The source remastered with `kernelParams` (through the cache: once per source, parameters and
   * process) written to the new file `output`: a hard link to the cached ISO where the file system
   * allows, else a copy. Nothing is left at `output` on failure.
   */
  remasterTo(source: string, kernelParams: string, output: string, options?: OperationOptions): Promise<void>;
  /** Removes a cache the provider made for itself (its temporary folder); a caller's cache is left. */
  close(): Promise<void>;
}

/**
 * The boot ISO cache of a provider (its option `field`, e.g. `bootIsoCache`): the given
 * {@link BootIsoCache} (checked: an object with `get`), shared with whoever else uses it; or, when
 * none is given, one of its own in a new folder under the system's temporary directory, kept at
 * most {@link PROVIDER_BOOT_ISO_CACHE_BYTES} and removed by `close`. Either way a second master
 * with the same ISO and kernel parameters is not remastered again.
 */
export function providerBootIsoCache(
  given: BootIsoCache | undefined,
  field = 'bootIsoCache',
): ProviderBootIsoCache {
  if (given !== undefined && (typeof given !== 'object' || given === null || typeof given.get !== 'function'))
    throw invalidArgument(field, 'must be a BootIsoCache (see bootIsoCache() of @vmkit/imaging)');
  const dir = given ? undefined : join(tmpdir(), `vmkit-boot-isos-${randomBytes(8).toString('hex')}`);
  const cache = given ?? bootIsoCache({ dir: dir as string, maxBytes: PROVIDER_BOOT_ISO_CACHE_BYTES });
  return Object.freeze({
    cache,
    ownFolder: dir,
    async remasterTo(source: string, kernelParams: string, output: string, options: OperationOptions = {}) {
      const lease = await cache.get(source, kernelParams, options);
      try {
        await rm(output, { force: true });
        await link(lease.path, output).catch(() => copyFile(lease.path, output));
      } catch (error) {
        await rm(output, { force: true });
        throw error;
      } finally {
        await lease.release();
      }
    },
    async close() {
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  });
}
