import { VmkitError } from '../errors/vmkit-error.js';
import type { MasterRef } from '../spi/master-build.js';
import type { DiskBytes } from '../spi/provider-artefacts.js';
import type { HousekeepingParts } from './housekeeping-parts.js';
import { sumBytes } from './prune-images.js';

/** Space taken by one master of an image. */
export interface MasterDiskUsage extends DiskBytes {
  /** The image. */
  readonly imageId: string;
  /** The provider's id of the master. */
  readonly master: string;
  /** `current` for the image's master, `retired` for a superseded one kept for older nodes. */
  readonly role: 'current' | 'retired';
  /** Nodes of the image (a retired master may serve some of them). */
  readonly nodes: number;
}

/** Space taken by one node's own disks (a linked clone's overlay counts its writes only). */
export interface NodeDiskUsage extends DiskBytes {
  /** Node id. */
  readonly id: string;
  /** Node name. */
  readonly name: string;
  /** Its group. */
  readonly group: string;
  /** The image it was cloned from. */
  readonly imageId: string;
}

/** Space taken by an artefact of a build that no record owns (what `pruneImages` would remove). */
export interface LeftoverDiskUsage extends DiskBytes {
  /** The provider's name for it. */
  readonly id: string;
  /** What it is (e.g. `volume`). */
  readonly kind: string;
  /** Used right now (a running build): prune keeps it. */
  readonly inUse: boolean;
}

/** What `ComputeService.diskUsage` reports. */
export interface DiskUsageReport {
  /** Every master with a record, current and retired. */
  readonly masters: readonly MasterDiskUsage[];
  /** Every node. */
  readonly nodes: readonly NodeDiskUsage[];
  /** Artefacts no record owns, when the provider lists them. */
  readonly leftovers: readonly LeftoverDiskUsage[];
  /** The sum of all of the above. */
  readonly total: DiskBytes;
}

const ZERO: DiskBytes = { allocatedBytes: 0, virtualBytes: 0 };

/**
 * Measures masters, nodes and leftovers through the provider's optional `masterDiskUsage` and
 * `nodeDiskUsage`; `UNSUPPORTED` naming the missing method when the provider has not got them.
 * Things that vanish while being measured are left out.
 */
export async function diskUsage(parts: HousekeepingParts): Promise<DiskUsageReport> {
  const { provider, cache } = parts;
  if (!provider.masterDiskUsage || !provider.nodeDiskUsage) {
    const missing = provider.masterDiskUsage ? 'nodeDiskUsage' : 'masterDiskUsage';
    throw new VmkitError('UNSUPPORTED', `provider ${provider.name} cannot measure disks (no ${missing})`, {
      details: { provider: provider.name, method: missing },
    });
  }
  const nodes = await provider.listNodes();
  const rows: Array<Omit<MasterDiskUsage, keyof DiskBytes> & { ref: MasterRef }> = [];
  for (const image of cache.list()) {
    const record = cache.record(image.id);
    if (!record) continue;
    const users = nodes.filter((n) => n.imageId === image.id).length;
    rows.push({
      imageId: image.id,
      master: record.master.id,
      role: 'current',
      nodes: users,
      ref: record.master,
    });
    for (const ref of record.retired ?? []) {
      rows.push({ imageId: image.id, master: ref.id, role: 'retired', nodes: users, ref });
    }
  }
  const masterSizes = await provider.masterDiskUsage(rows.map((r) => r.ref));
  const masters: MasterDiskUsage[] = rows.flatMap(({ ref: _, ...row }, i) => {
    const size = masterSizes[i];
    return size ? [{ ...row, ...size }] : [];
  });
  const nodeSizes = await provider.nodeDiskUsage(nodes.map((n) => n.id));
  const nodeRows: NodeDiskUsage[] = nodes.flatMap((n, i) => {
    const size = nodeSizes[i];
    return size ? [{ id: n.id, name: n.name, group: n.group, imageId: n.imageId, ...size }] : [];
  });
  const owned = new Set(rows.map((r) => r.master));
  const artefacts = provider.listArtefacts ? await provider.listArtefacts() : [];
  const leftovers: LeftoverDiskUsage[] = artefacts
    .filter((a) => !owned.has(a.masterId))
    .map((a) => ({ id: a.id, kind: a.kind, inUse: a.inUse, ...(a.bytes ?? ZERO) }));
  const total = sumBytes([...masters, ...nodeRows, ...leftovers]) ?? ZERO;
  return { masters, nodes: nodeRows, leftovers, total };
}
