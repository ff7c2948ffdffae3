import type { NodeMetadata } from '../model/node-metadata.js';
import { VmkitError } from './vmkit-error.js';

/** The failure of one node in a {@link RunNodesError}. */
export interface NodeFailure {
  /** The name the node would have had. */
  readonly name: string;
  /** Why it failed; everything it had created was rolled back, unless {@link NodeFailure.node} is set. */
  readonly error: VmkitError;
  /**
   * Set when the node could not be rolled back (the hypervisor stayed out of reach) and still
   * exists, as it was last seen (not running; a running one is in {@link RunNodesError.nodes}):
   * `listNodes` shows it and `destroyNode` removes it.
   */
  readonly node?: NodeMetadata;
}

/**
 * Thrown by `createNodesInGroup` when some nodes could not be created. The nodes that were created
 * are running and returned in {@link RunNodesError.nodes}; each failed node was rolled back and is
 * described in {@link RunNodesError.errors}, except those whose rollback was given up: they are
 * listed in {@link RunNodesError.stranded} (and named in the message), as they still exist.
 */
export class RunNodesError extends VmkitError {
  /** The nodes that were created and started. */
  readonly nodes: readonly NodeMetadata[];
  /** One entry per node that failed. */
  readonly errors: readonly NodeFailure[];

  /** The failed nodes that could not be rolled back and still exist (see {@link NodeFailure.node}). */
  readonly stranded: readonly NodeMetadata[];

  constructor(group: string, nodes: readonly NodeMetadata[], errors: readonly NodeFailure[]) {
    const first = errors[0]?.error.message ?? 'unknown error';
    const stranded = errors.flatMap((e) => (e.node ? [e.node] : []));
    const left =
      stranded.length > 0
        ? `; ${stranded.length} could not be rolled back and still exist: ${stranded.map((n) => n.name).join(', ')}`
        : '';
    super(
      errors[0]?.error.code ?? 'PROVIDER',
      `group ${group}: ${errors.length} of ${nodes.length + errors.length} nodes failed${left} (first: ${first})`,
      {
        cause: errors[0]?.error,
        details: {
          group,
          created: nodes.length,
          failed: errors.length,
          stranded: stranded.map((n) => n.id),
        },
        ...(errors[0] ? { retryable: errors[0].error.retryable, fault: errors[0].error.fault } : {}),
      },
    );
    this.name = 'RunNodesError';
    this.nodes = Object.freeze([...nodes]);
    this.errors = Object.freeze([...errors]);
    this.stranded = Object.freeze(stranded);
  }
}
