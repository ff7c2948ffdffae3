import { masterRefError, type WarmStateRef } from '@vmkit/core/spi';
import type { LibvirtContext } from '../libvirt-context.js';
import { checkWarmRef, warmPrefix } from './warm-names.js';

/**
 * Deletes a stale warm state's image; its disk stays (clones made from it are overlays over it)
 * until its master is deleted ({@link deleteWarmVolumes}). Gone is fine.
 */
export async function deleteLibvirtWarmState(ctx: LibvirtContext, ref: WarmStateRef): Promise<void> {
  const master = typeof ref?.data?.master === 'string' ? ref.data.master : '';
  const escaped = ctx.options.namePrefix.replace(/[.]/g, '\\.');
  if (!new RegExp(`^${escaped}m-[A-Za-z0-9][A-Za-z0-9._-]{0,200}\\.qcow2$`).test(master))
    throw masterRefError('warm.state.data.master', 'must be a master volume this provider names');
  const warm = checkWarmRef(ctx.options, ref, { id: master });
  await ctx.storage.refresh().catch(() => {});
  await ctx.storage.delete(warm.state);
}

/** Deletes every warm volume (state images and disks) of the master volume `masterVolume`. */
export async function deleteWarmVolumes(ctx: LibvirtContext, masterVolume: string): Promise<void> {
  if (!masterVolume.endsWith('.qcow2')) return;
  const prefix = warmPrefix(masterVolume);
  await ctx.storage.refresh().catch(() => {});
  const volumes = await ctx.client.storage.poolListAllVolumes(await ctx.storage.pool());
  for (const vol of volumes) if (vol.name.startsWith(prefix)) await ctx.storage.delete(vol.name);
}
