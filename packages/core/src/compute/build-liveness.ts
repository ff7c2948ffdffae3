import type { BuildLeases } from '../masters/build-lease.js';
import type { MasterRepository } from '../masters/master-repository.js';
import type { ProviderArtefact } from '../spi/provider-artefacts.js';

/** What decides whether a build artefact is still someone's. */
export interface LivenessParts {
  readonly repository: Pick<MasterRepository, 'get'>;
  readonly leases: Pick<BuildLeases, 'live'>;
}

/** The image a core master name (`vmkit-<image>-<8 hex>-<4 hex>`) was chosen for, if it is one. */
export function imageOfMasterName(masterName: string): string | undefined {
  return /^vmkit-(.+)-[0-9a-f]{8}-[0-9a-f]{4}$/.exec(masterName)?.[1];
}

/**
 * Sorts listed artefacts into those someone still owns and the leftovers of dead builds. The one
 * liveness rule of start-up recovery and `pruneImages`: an artefact is owned when it is in use,
 * when a record in the store names its master (current or superseded), or when a live build lease
 * (any process, any host) names its master name. Leases are read before records, and a builder
 * saves its record before it releases its lease, so a build finishing meanwhile is never missed.
 * `known` holds master ids of records already loaded (a record never stops naming its masters
 * while they exist: superseded ones are kept as retired), so only the others are read again.
 */
export async function classifyArtefacts(
  parts: LivenessParts,
  artefacts: readonly ProviderArtefact[],
  known: ReadonlySet<string> = new Set(),
): Promise<{ owned: Map<ProviderArtefact, string>; leftovers: ProviderArtefact[] }> {
  const live = new Map((await parts.leases.live()).map((l) => [l.masterName, l]));
  const images = new Set<string>();
  for (const a of artefacts) {
    if (known.has(a.masterId)) continue;
    const id = a.imageId ?? imageOfMasterName(a.masterName);
    if (id !== undefined) images.add(id);
  }
  const recorded = new Set<string>();
  for (const id of images) {
    const record = await parts.repository.get(id);
    for (const ref of record ? [record.master, ...(record.retired ?? [])] : []) recorded.add(ref.id);
  }
  const owned = new Map<ProviderArtefact, string>();
  const leftovers: ProviderArtefact[] = [];
  for (const artefact of artefacts) {
    const lease = live.get(artefact.masterName);
    if (artefact.inUse) owned.set(artefact, 'in use');
    else if (known.has(artefact.masterId) || recorded.has(artefact.masterId)) {
      owned.set(artefact, 'its master is recorded');
    } else if (lease) {
      const { hostname, pid } = lease.holder;
      owned.set(artefact, `a live build lease names it (${hostname} pid ${pid})`);
    } else leftovers.push(artefact);
  }
  return { owned, leftovers };
}
