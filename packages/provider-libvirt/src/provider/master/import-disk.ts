import { stat } from 'node:fs/promises';
import type { BuildContext } from '@vmkit/core/spi';
import type { LibvirtContext } from '../libvirt-context.js';
import type { BuildState, MasterNames } from './build-state.js';
import { localFile, prepareDisk, verifySha256 } from './master-source.js';

/**
 * `create-and-install` for a `disk` source: fetches the image (a local path or a download),
 * checks its digest, prepares it (see {@link prepareDisk}) and uploads it into the pool as the
 * master's volume through the storage API. Temporary copies are removed whatever happens.
 */
export async function importDisk(
  ctx: LibvirtContext,
  c: BuildContext,
  names: MasterNames,
  s: BuildState,
): Promise<void> {
  const source = c.spec.source;
  if (source.type !== 'disk') throw new TypeError('importDisk needs a disk source');
  const local = await localFile(source, 'source', c.signal);
  try {
    await verifySha256(local.file, source.sha256);
    const disk = await prepareDisk(local.file, source.format, c.signal);
    try {
      // The upload writes the prepared file's bytes into the pool.
      const bytes = (await stat(disk.file)).size;
      await ctx.storage.assertFits([{ what: `volume ${names.volume}`, bytes }]);
      c.progress(0.1, `uploading ${disk.format} disk`);
      s.volumes.push(names.volume);
      await ctx.storage.createFromFile(names.volume, disk.file, disk.format, disk.virtualSize, {
        signal: c.signal,
        onBytes: (n) =>
          c.progress(0.1 + 0.85 * Math.min(1, n / Math.max(1, disk.virtualSize)), `uploaded ${n} bytes`),
      });
      s.data = {
        pool: ctx.storage.name,
        volume: names.volume,
        format: disk.format,
        capacityBytes: disk.virtualSize,
        boot: 'disk',
        volumes: [names.volume],
      };
    } finally {
      await disk.cleanup();
    }
  } finally {
    await local.cleanup();
  }
}
