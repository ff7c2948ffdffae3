import type { OperationOptions } from '../util/progress.js';
import type { CloneSpec } from './clone-spec.js';
import type { ProviderNode } from './hypervisor-provider.js';
import type { MasterRef } from './master-build.js';

/**
 * A provider's handle on a saved template state (its state image and the disk it was saved
 * with), kept in the master's record (`MasterRecord.warm`): untrusted when read back, so the
 * provider checks it against the names it makes before acting on it.
 */
export interface WarmStateRef {
  /** Provider-scoped identifier. */
  readonly id: string;
  /** Provider-specific data. */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** What {@link ProviderWarmClones.saveWarmState} made. */
export interface SavedWarmState {
  /** The handle to keep with the master. */
  readonly ref: WarmStateRef;
  /** Bytes of the state image. */
  readonly stateBytes: number;
}

/** How a warm clone came up. */
export interface WarmCloneResult {
  /** The node, running. */
  readonly node: ProviderNode;
  /**
   * `true`: resumed from the state. `false`: the state could not be used and the node booted cold
   * from the master (nothing of the failed attempt is left); `reason` says why.
   */
  readonly resumed: boolean;
  /** Why the state was not used. */
  readonly reason?: string;
}

/**
 * Warm clones (optional; offered where `capabilities().warmClones` is true). Core boots the
 * template itself (an ordinary node of the master), waits for the spec's readiness signal, then
 * calls {@link saveWarmState}; each warm node is one {@link cloneNodeFromState}. Core resets the
 * node's identity through the guest agent afterwards.
 */
export interface ProviderWarmClones {
  /**
   * Saves the running node `nodeId` (a template core booted from `master`) as a warm state and
   * removes the node: its disk, as it was at the save, becomes part of the state (read-only from
   * then on, the base of every clone's own overlay); its other volumes are deleted.
   */
  saveWarmState?(nodeId: string, master: MasterRef, options?: OperationOptions): Promise<SavedWarmState>;
  /**
   * Creates node `spec` from `state` and leaves it running: its own overlay over the state's disk,
   * its own name, UUID, generation id, config drive and port forwards, its clock set to the host's.
   * The saved state is never written. When the state cannot be used (missing, corrupt, refused by
   * the hypervisor), the node boots cold from the master instead (`resumed: false`); on any other
   * failure nothing of the node remains.
   */
  cloneNodeFromState?(
    spec: CloneSpec,
    state: WarmStateRef,
    options?: OperationOptions,
  ): Promise<WarmCloneResult>;
  /** Deletes a saved state (its state image; its disk once no node is based on it); gone is fine. */
  deleteWarmState?(state: WarmStateRef): Promise<void>;
}
