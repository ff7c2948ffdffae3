import type { OperationOptions } from '../util/progress.js';

/**
 * The rule snapshot names follow: letters, digits, `.`, `_` and `-`, starting with a letter or a
 * digit, at most 64 characters, and not only digits (hypervisors match snapshots by number too).
 */
export const SNAPSHOT_NAME_PATTERN = /^(?![0-9]+$)[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A saved state of one node's own disk (never its master's), and of its memory when taken so. */
export interface NodeSnapshot {
  /** Its name, unique within the node. */
  readonly name: string;
  /** The caller's description, when one was given. */
  readonly description?: string;
  /** When it was taken (ISO 8601). */
  readonly createdAt: string;
  /**
   * Whether it holds the running node's memory: reverting to it resumes the node running where it
   * was, processes and all. Without memory a revert leaves the node stopped, its disk as it was.
   */
  readonly memory: boolean;
  /** Whether it is the node's current snapshot (the last taken or reverted to). */
  readonly current: boolean;
  /** The snapshot it was taken after, when there is one. */
  readonly parent?: string;
}

/** Options of `snapshotNode`. */
export interface SnapshotNodeOptions extends OperationOptions {
  /**
   * Save the running node's memory too, so a revert resumes it running (default false). A running
   * node may need it: a provider that cannot snapshot a running node's disk alone says so in
   * `capabilities().snapshots` and core refuses early. Meaningless for a stopped node (refused).
   */
  readonly memory?: boolean;
  /** A description kept with the snapshot (at most 1,000 characters). */
  readonly description?: string;
}
