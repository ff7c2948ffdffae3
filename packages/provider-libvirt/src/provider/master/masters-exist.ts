import type { MasterRef } from '@vmkit/core/spi';
import type { LibvirtContext } from '../libvirt-context.js';
import { masterVolumes } from './build-artefacts.js';

/**
 * Up to this many masters are checked with a lookup per volume; above it one listing of the
 * pool is cheaper (start-up checks every persisted master at once: 10,000 lookups take seconds).
 */
export const LOOKUP_LIMIT = 16;

/**
 * Whether every volume of each master is in vmkit's pool, in the order given; `false` for a
 * reference that fails the provider's checks (it names nothing vmkit made).
 */
export async function libvirtMastersExist(
  ctx: LibvirtContext,
  refs: readonly MasterRef[],
): Promise<boolean[]> {
  if (refs.length <= LOOKUP_LIMIT) {
    return Promise.all(
      refs.map(async (ref) => {
        const volumes = masterVolumes(ctx.options, ref);
        if (!volumes) return false;
        for (const name of volumes) if (!(await ctx.storage.find(name))) return false;
        return true;
      }),
    );
  }
  const pool = await ctx.storage.pool();
  const names = new Set((await ctx.client.storage.poolListAllVolumes(pool)).map((vol) => vol.name));
  return refs.map((ref) => masterVolumes(ctx.options, ref)?.every((name) => names.has(name)) ?? false);
}
