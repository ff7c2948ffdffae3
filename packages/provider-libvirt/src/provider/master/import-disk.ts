import { stat } from 'node:fs/promises';
import type { BuildContext } from '@vmkit/core/spi';
import { fetchMasterDisk } from '@vmkit/imaging';
import type { LibvirtContext } from '../libvirt-context.js';
import type { BuildState, MasterNames } from './build-state.js';

/**
 * `create-and-install` for a `disk` source: imaging's `fetchMasterDisk` fetches, checks and
 * inspects the image (qcow2 and raw as they are, vmdk, vdi, vhd and vhdx converted to qcow2),
 * then it is uploaded into the pool as the master's volume through the storage API. Temporary
 * copies are removed whatever happens.
 */
export async function importDisk(
  ctx: LibvirtContext,
  c: BuildContext,
  names: MasterNames,
  s: BuildState,
): Promise<void> {
  const source = c.spec.source;
  if (source.type !== 'disk') throw new TypeError('importDisk needs a disk source');
  const disk = await fetchMasterDisk(source, {
    native: ['qcow2', 'raw'],
    convertTo: 'qcow2',
    signal: c.signal,
    onProgress: (f) => c.progress(0.1 * f, 'converting the disk to qcow2'),
  });
  const format = disk.format === 'qcow2' ? 'qcow2' : 'raw';
  try {
    // The upload writes the prepared file's bytes into the pool.
    const bytes = (await stat(disk.path)).size;
    await ctx.storage.assertFits([{ what: `volume ${names.volume}`, bytes }]);
    c.progress(0.1, `uploading ${format} disk`);
    s.volumes.push(names.volume);
    await ctx.storage.createFromFile(names.volume, disk.path, format, disk.virtualSize, {
      signal: c.signal,
      onBytes: (n) =>
        c.progress(0.1 + 0.85 * Math.min(1, n / Math.max(1, disk.virtualSize)), `uploaded ${n} bytes`),
    });
    s.data = {
      pool: ctx.storage.name,
      volume: names.volume,
      format: format,
      capacityBytes: disk.virtualSize,
      boot: 'disk',
      volumes: [names.volume],
    };
  } finally {
    await disk.dispose();
  }
}
