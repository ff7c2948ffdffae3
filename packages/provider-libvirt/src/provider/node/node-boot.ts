import { VmkitError } from '@vmkit/core/spi';
import type { LibvirtContext, LibvirtMasterData } from '../libvirt-context.js';
import type { DomainBoot } from '../xml/domain-xml.js';

/**
 * How a node of `master` boots (also the master's post-install boot): a kernel master by direct
 * kernel boot with its node command line, a live boot ISO master from that ISO as a CD-ROM, any
 * other from its disk. A master's host boot-file paths are booted only on the test driver.
 */
export async function nodeBoot(
  ctx: LibvirtContext,
  master: LibvirtMasterData | undefined,
): Promise<DomainBoot> {
  if (master?.boot === 'cdrom') return { kind: 'cdrom' };
  if (master?.boot !== 'kernel') return { kind: 'disk' };
  // Host paths are kept only by drivers that cannot take uploads: elsewhere they are never booted.
  if ((master.kernelPath !== undefined || master.initrdPath !== undefined) && ctx.domainType !== 'test')
    throw new VmkitError(
      'CORRUPT',
      'master.data.kernelPath and initrdPath are kept only by drivers without volume uploads; this one boots volumes',
      { details: { field: 'master.data.kernelPath' } },
    );
  const path = async (vol: string | undefined, fallback: string | undefined) => {
    if (vol) {
      const handle = await ctx.storage.find(vol);
      if (!handle) throw new VmkitError('NOT_FOUND', `master boot volume ${vol} is missing`);
      return ctx.storage.path(handle);
    }
    if (!fallback) throw new VmkitError('CORRUPT', 'master reference has no kernel');
    return fallback;
  };
  return {
    kind: 'kernel',
    kernel: await path(master.kernelVolume, master.kernelPath),
    initrd: await path(master.initrdVolume, master.initrdPath),
    cmdline: master.cmdline ?? '',
  };
}
