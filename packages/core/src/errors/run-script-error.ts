import type { NodeScriptResult } from '../model/guest-exec.js';
import { VmkitError } from './vmkit-error.js';

/**
 * Thrown by `runScriptOnNodesMatching` when the script failed on some nodes (an error, or a
 * non-zero exit): {@link RunScriptError.results} holds every node's result in order, those that
 * succeeded too; {@link RunScriptError.failed} the failed ones, which the message names.
 */
export class RunScriptError extends VmkitError {
  /** One entry per node the predicate accepted, in order. */
  readonly results: readonly NodeScriptResult[];
  /** The entries whose `error` is set. */
  readonly failed: readonly NodeScriptResult[];

  constructor(results: readonly NodeScriptResult[]) {
    const failed = results.filter((r) => r.error !== undefined);
    const first = failed[0]?.error;
    const names = failed.map((r) => r.node.name).join(', ');
    super(
      VmkitError.is(first) ? first.code : 'PROVIDER',
      `script failed on ${failed.length} of ${results.length} nodes: ${names} (first: ${first?.message ?? 'unknown error'})`,
      {
        cause: first,
        details: { nodes: results.length, failed: failed.map((r) => r.node.name) },
        ...(VmkitError.is(first) ? { retryable: first.retryable, fault: first.fault } : {}),
      },
    );
    this.name = 'RunScriptError';
    this.results = Object.freeze([...results]);
    this.failed = Object.freeze(failed);
  }
}

/** The error of a script that ran on `node` but exited non-zero (`PROVIDER`, with its result). */
export function scriptExitError(node: string, exitCode: number, stderr: string): VmkitError {
  const tail = stderr.trim().split('\n').slice(-1)[0] ?? '';
  return new VmkitError(
    'PROVIDER',
    `script exited with ${exitCode} on node ${node}${tail ? `: ${tail}` : ''}`,
    {
      details: { node, exitCode },
    },
  );
}
