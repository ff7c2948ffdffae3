import { join } from 'node:path';
import { masterRefError, VmkitError, type WarmStateRef } from '@vmkit/core/spi';
import type { LibvirtContext } from '../libvirt-context.js';
import { checkWarmRef, warmPrefix } from './warm-names.js';

/**
 * Deletes a stale warm state's image, then its disk once no clone is based on it (see
 * {@link deleteStaleWarmDisks}; a disk still under clones goes when the last of them is
 * destroyed, or with its master). Gone is fine.
 */
export async function deleteLibvirtWarmState(ctx: LibvirtContext, ref: WarmStateRef): Promise<void> {
  const master = typeof ref?.data?.master === 'string' ? ref.data.master : '';
  const escaped = ctx.options.namePrefix.replace(/[.]/g, '\\.');
  if (!new RegExp(`^${escaped}m-[A-Za-z0-9][A-Za-z0-9._-]{0,200}\\.qcow2$`).test(master))
    throw masterRefError('warm.state.data.master', 'must be a master volume this provider names');
  const warm = checkWarmRef(ctx.options, ref, { id: master });
  await ctx.storage.refresh().catch(() => {});
  await ctx.storage.delete(warm.state);
  await deleteStaleWarmDisks(ctx, master);
}

/**
 * Deletes the stale warm disks of the master volume `masterVolume`: a warm disk
 * (`<master>.warm-<gen>.qcow2`) whose state image is gone (a state is saved before its disk is
 * named, and a stale state's image is deleted when its successor is saved) and which no volume
 * of the pool is an overlay over (no clone made from it is left). Called when a stale state is
 * deleted and when a warm clone is destroyed. A clone being made from the stale state at that
 * moment finds its base gone and boots cold, as it does when the state image is gone.
 */
export async function deleteStaleWarmDisks(ctx: LibvirtContext, masterVolume: string): Promise<void> {
  if (!masterVolume.endsWith('.qcow2')) return;
  const prefix = warmPrefix(masterVolume);
  const pool = await ctx.storage.pool();
  const volumes = await ctx.client.storage.poolListAllVolumes(pool);
  const names = new Set(volumes.map((v) => v.name));
  const stale = volumes.filter(
    (v) =>
      v.name.startsWith(prefix) && v.name.endsWith('.qcow2') && !names.has(`${v.name.slice(0, -6)}.state`),
  );
  if (stale.length === 0) return;
  const dir = await ctx.storage.targetPath();
  const based = new Set<string>();
  for (const vol of volumes) {
    if (
      !vol.name.startsWith(ctx.options.namePrefix) ||
      !vol.name.endsWith('.qcow2') ||
      vol.name.startsWith(prefix)
    )
      continue;
    let xml: string;
    try {
      xml = await ctx.client.storage.volGetXmlDesc(vol);
    } catch (error) {
      if (VmkitError.is(error, 'NOT_FOUND')) continue;
      throw error;
    }
    const backing = /<backingStore>[\s\S]*?<path>([^<]*)<\/path>/.exec(xml)?.[1];
    if (backing !== undefined) based.add(backing);
  }
  for (const vol of stale) if (!based.has(join(dir, vol.name))) await ctx.storage.delete(vol.name);
}

/** Deletes every warm volume (state images and disks) of the master volume `masterVolume`. */
export async function deleteWarmVolumes(ctx: LibvirtContext, masterVolume: string): Promise<void> {
  if (!masterVolume.endsWith('.qcow2')) return;
  const prefix = warmPrefix(masterVolume);
  await ctx.storage.refresh().catch(() => {});
  const volumes = await ctx.client.storage.poolListAllVolumes(await ctx.storage.pool());
  for (const vol of volumes) if (vol.name.startsWith(prefix)) await ctx.storage.delete(vol.name);
}
