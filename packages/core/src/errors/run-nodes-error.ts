import type { NodeMetadata } from '../model/node-metadata.js';
import { VmkitError } from './vmkit-error.js';

/** The failure of one node in a {@link RunNodesError}. */
export interface NodeFailure {
  /** The name the node would have had. */
  readonly name: string;
  /** Why it failed; everything it had created was rolled back. */
  readonly error: VmkitError;
}

/**
 * Thrown by `createNodesInGroup` when some nodes could not be created. The nodes that were created
 * are running and returned in {@link RunNodesError.nodes}; each failed node was rolled back and is
 * described in {@link RunNodesError.errors}.
 */
export class RunNodesError extends VmkitError {
  /** The nodes that were created and started. */
  readonly nodes: readonly NodeMetadata[];
  /** One entry per node that failed. */
  readonly errors: readonly NodeFailure[];

  constructor(group: string, nodes: readonly NodeMetadata[], errors: readonly NodeFailure[]) {
    const first = errors[0]?.error.message ?? 'unknown error';
    super(
      errors[0]?.error.code ?? 'PROVIDER',
      `group ${group}: ${errors.length} of ${nodes.length + errors.length} nodes failed (first: ${first})`,
      {
        cause: errors[0]?.error,
        details: { group, created: nodes.length, failed: errors.length },
        ...(errors[0] ? { retryable: errors[0].error.retryable, fault: errors[0].error.fault } : {}),
      },
    );
    this.name = 'RunNodesError';
    this.nodes = Object.freeze([...nodes]);
    this.errors = Object.freeze([...errors]);
  }
}
