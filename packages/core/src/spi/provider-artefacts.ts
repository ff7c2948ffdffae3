import type { MasterRef } from './master-build.js';

/**
 * Optional parts of the provider SPI used by `pruneImages` and `diskUsage`: a provider that lists
 * the artefacts carrying vmkit's marks (build domains, master volumes) lets core find leftovers of
 * crashed builds; one that measures disks lets core report space. Providers without them still
 * work: prune then removes unused masters and records only, and disk usage is `UNSUPPORTED`.
 */

/** Space taken by a disk (or the disks of a master or node), in bytes. */
export interface DiskBytes {
  /** Bytes really allocated on the host (what a copy-on-write overlay adds, not its backing file). */
  readonly allocatedBytes: number;
  /** Bytes the guest sees (the disks' capacity). */
  readonly virtualBytes: number;
}

/**
 * Something on the hypervisor that vmkit made for a master build (a build domain, a master's
 * volume, a console log) and that the provider recognises as vmkit's by its metadata or name.
 */
export interface ProviderArtefact {
  /** The provider's name for it (a domain or volume name); unique within its kind. */
  readonly id: string;
  /** What it is, in the provider's words (e.g. `domain`, `volume`). */
  readonly kind: string;
  /**
   * The master name core chose for the build that made it (`vmkit-<image>-<hash>-<rand>`); empty
   * for what a node's creation left (a disk or config drive whose domain was never defined).
   */
  readonly masterName: string;
  /**
   * The id of the `MasterRef` that build produces (or produced): a record naming it owns the
   * artefact. Empty for a node's leftover.
   */
  readonly masterId: string;
  /** The image it was built for, when the artefact says. */
  readonly imageId?: string;
  /** When it was made (ISO 8601), when known. */
  readonly createdAt?: string;
  /**
   * Used right now by something other than a build: a master volume some node's disk depends on.
   * Core never removes an artefact in use. A running build domain is not "in use": core knows
   * whether its build lives (a build in this process, or a live build lease in the store naming
   * its master name) and removes it, stopped, only once its builder is dead.
   */
  readonly inUse: boolean;
  /** Space it takes, when known. */
  readonly bytes?: DiskBytes;
}

/** The optional SPI methods behind `pruneImages` and `diskUsage`. */
export interface ProviderHousekeeping {
  /** Every artefact of master builds this provider recognises as vmkit's (within its name prefix). */
  listArtefacts?(): Promise<readonly ProviderArtefact[]>;
  /** Removes one artefact as listed; already gone is not an error. */
  removeArtefact?(artefact: ProviderArtefact): Promise<void>;
  /** Space taken by each master (all its disks), `undefined` where a master is gone. */
  masterDiskUsage?(refs: readonly MasterRef[]): Promise<Array<DiskBytes | undefined>>;
  /** Space taken by each node's own disks (overlay, config drive), `undefined` where a node is gone. */
  nodeDiskUsage?(ids: readonly string[]): Promise<Array<DiskBytes | undefined>>;
}
