import { invalidArgument } from '../errors/vmkit-error.js';
import {
  type BuildLeaseOptions,
  type ResolvedBuildLeaseOptions,
  resolveBuildLeaseOptions,
} from '../masters/build-lease-options.js';

/** Options of ephemeral nodes (`ComputeServiceOptions.ephemeralNodes`; see `docs/ephemeral-nodes.md`). */
export interface EphemeralNodesOptions {
  /**
   * The owner lease that keeps this service's ephemeral nodes alive: renewed every `renewMs`
   * while the service lives; `ttlMs` after the last renewal, the nodes are reaped by the next
   * start, prune or `reapNodes` of any process on the store. Same rules and defaults as
   * `buildLease` (60 s).
   */
  readonly lease?: BuildLeaseOptions;
  /** Destroy this service's ephemeral nodes in `close()` (default `false`: they are reaped later). */
  readonly destroyOnClose?: boolean;
}

/** {@link EphemeralNodesOptions} checked and completed. */
export interface ResolvedEphemeralNodesOptions {
  readonly lease: ResolvedBuildLeaseOptions;
  readonly destroyOnClose: boolean;
}

/** Checks the options, naming the bad one (`ephemeralNodes.lease.ttlMs`, `ephemeralNodes.destroyOnClose`). */
export function resolveEphemeralNodesOptions(
  options: EphemeralNodesOptions | undefined,
): ResolvedEphemeralNodesOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalidArgument('ephemeralNodes', 'must be an object');
  }
  const destroyOnClose = options?.destroyOnClose ?? false;
  if (typeof destroyOnClose !== 'boolean') {
    throw invalidArgument('ephemeralNodes.destroyOnClose', 'must be a boolean');
  }
  return Object.freeze({
    lease: resolveBuildLeaseOptions(options?.lease, 'ephemeralNodes.lease'),
    destroyOnClose,
  });
}
