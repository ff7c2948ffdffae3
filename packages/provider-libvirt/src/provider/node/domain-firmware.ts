import { VmkitError } from '@vmkit/core/spi';
import { findOvmf } from '../host/ovmf-firmware.js';
import type { LibvirtContext } from '../libvirt-context.js';
import type { DomainFirmware } from '../xml/domain-xml.js';

/**
 * The UEFI firmware of a domain whose NVRAM is the pool volume `nvramVolume` (a master's own
 * during its build, a node's own copy after): OVMF's code read-only, and the volume's path as the
 * writable variable store. `undefined` (BIOS) without a volume.
 */
export async function domainFirmware(
  ctx: Pick<LibvirtContext, 'storage'>,
  nvramVolume: string | undefined,
): Promise<DomainFirmware | undefined> {
  if (nvramVolume === undefined) return undefined;
  const ovmf = await findOvmf();
  const vol = await ctx.storage.find(nvramVolume);
  if (!vol)
    throw new VmkitError('NOT_FOUND', `NVRAM volume ${nvramVolume} is missing from pool ${ctx.storage.name}`);
  return { loader: ovmf.code, nvram: await ctx.storage.path(vol) };
}
