import type { NodeSnapshot } from '../model/node-snapshot.js';
import type { OperationOptions } from '../util/progress.js';

/**
 * What a provider can snapshot, in `ProviderCapabilities.snapshots` (absent: no snapshots at
 * all). Core refuses what a provider cannot do before asking it, with the reason.
 */
export interface SnapshotCapabilities {
  /** Snapshots of a stopped node (its disk). */
  readonly stopped: boolean;
  /** Snapshots of a running node with its memory (`memory: true`). */
  readonly runningWithMemory: boolean;
  /** Snapshots of a running node's disk alone (`memory: false` on a running node). */
  readonly runningDiskOnly: boolean;
  /** Reverting a running node (false: the node must be stopped first). */
  readonly revertRunning: boolean;
  /** Snapshots of nodes that have data volumes (false: such nodes are refused, the volume named). */
  readonly dataVolumes: boolean;
}

/** What core asks a provider to take, after checking it. */
export interface SnapshotRequest {
  /** The snapshot's name (checked against `SNAPSHOT_NAME_PATTERN`, not taken yet on the node). */
  readonly name: string;
  /** Whether to save the memory of the running node. */
  readonly memory: boolean;
  /** The description, if any. */
  readonly description?: string;
}

/**
 * The optional part of the provider SPI behind `snapshotNode`, `listNodeSnapshots`, `revertNode`
 * and `deleteNodeSnapshot`. A provider that has it says so in `capabilities().snapshots`.
 * Snapshots are of the node's own disk (its overlay), never of the master it was cloned from,
 * and go with the node when it is destroyed.
 *
 * Rules: `NOT_FOUND` for an unknown node or snapshot, `CONFLICT` for a name the node already has
 * or a node in a state the call cannot work in, `UNSUPPORTED` (naming the reason) for what the
 * hypervisor cannot snapshot (e.g. a raw data volume), `PROVIDER` for hypervisor failures.
 */
export interface ProviderNodeSnapshots {
  /** Takes a snapshot of the node as it is now; returns it as listed. */
  snapshotNode?(id: string, request: SnapshotRequest, options?: OperationOptions): Promise<NodeSnapshot>;
  /** The node's snapshots, oldest first. */
  listNodeSnapshots?(id: string): Promise<readonly NodeSnapshot[]>;
  /**
   * Puts the node back to the snapshot: its disk, and its memory and running state when the
   * snapshot holds memory (else the node ends stopped). The snapshot stays.
   */
  revertNode?(id: string, name: string, options?: OperationOptions): Promise<void>;
  /** Deletes one snapshot; the node and its other snapshots stay as they are. */
  deleteNodeSnapshot?(id: string, name: string): Promise<void>;
}
