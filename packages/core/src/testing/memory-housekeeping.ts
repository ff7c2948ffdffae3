import type { DiskBytes, ProviderArtefact, ProviderHousekeeping } from '../spi/provider-artefacts.js';
import type { MemoryProviderState } from './memory-provider-state.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** The sizes the memory provider reports: fixed, so tests can assert sums. */
export const MEMORY_DISK_BYTES = Object.freeze({
  /** Every master: 64 MiB allocated of 1 GiB. */
  master: Object.freeze({ allocatedBytes: 64 * MiB, virtualBytes: GiB }),
  /** A linked clone's overlay: 1 MiB allocated of 1 GiB. */
  linked: Object.freeze({ allocatedBytes: MiB, virtualBytes: GiB }),
  /** A full copy: as much as a master. */
  full: Object.freeze({ allocatedBytes: 64 * MiB, virtualBytes: GiB }),
});

/**
 * The memory provider's optional housekeeping methods: every master (finished or not) is an
 * artefact named by its master name, in use while some node's disk is backed by it.
 */
export function memoryHousekeeping(state: MemoryProviderState): Required<ProviderHousekeeping> {
  return {
    async listArtefacts(): Promise<ProviderArtefact[]> {
      return state.read((d) => {
        const backing = new Set(Object.values(d.disks).map((disk) => disk.backing));
        return Object.values(d.masters).map((m) => ({
          id: m.name,
          kind: 'master',
          masterName: m.name,
          masterId: m.name,
          imageId: m.imageId,
          ...(m.createdAt ? { createdAt: m.createdAt } : {}),
          inUse: backing.has(`master:${m.name}`),
          bytes: MEMORY_DISK_BYTES.master,
        }));
      });
    },
    async removeArtefact(artefact) {
      state.mutate((d) => {
        delete d.masters[artefact.id];
        delete d.disks[`master:${artefact.id}`];
      });
    },
    async masterDiskUsage(refs): Promise<Array<DiskBytes | undefined>> {
      return state.read((d) => refs.map((r) => (d.masters[r.id] ? MEMORY_DISK_BYTES.master : undefined)));
    },
    async nodeDiskUsage(ids): Promise<Array<DiskBytes | undefined>> {
      return state.read((d) =>
        ids.map((id) => {
          const disk = d.disks[`node:${id}`];
          if (!disk) return undefined;
          return disk.backing ? MEMORY_DISK_BYTES.linked : MEMORY_DISK_BYTES.full;
        }),
      );
    },
  };
}
