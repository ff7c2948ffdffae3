import { toVmkitError, VmkitError } from '../errors/vmkit-error.js';
import type { MasterCache } from '../masters/master-cache.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import { throwIfAborted } from '../util/abort.js';
import { mapSettled } from '../util/concurrency.js';
import type { Logger } from '../util/logger.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';
import type { NodeLauncher } from './node-launcher.js';

/** The power operations a compute service forwards to its provider. */
export type PowerOperation = 'start' | 'stop' | 'reboot' | 'suspend' | 'resume';

/** What node operations need of a compute service. */
export interface NodeOperationParts {
  readonly provider: HypervisorProvider;
  readonly launcher: NodeLauncher;
  /** How many nodes are destroyed at once. */
  readonly clones: number;
  /** The master cache, whose superseded masters go once their last node is gone. */
  readonly cache: MasterCache;
  /** Where failures of that clean-up are logged. */
  readonly logger: Logger;
}

/** Deletes superseded masters of these images if their last node is gone (best effort). */
export async function collectRetired(parts: NodeOperationParts, imageIds: readonly string[]): Promise<void> {
  for (const id of new Set(imageIds)) {
    await parts.cache.collectRetired(id).catch((error: unknown) => {
      parts.logger.warn('could not clean up superseded masters', { imageId: id, error: String(error) });
    });
  }
}

/**
 * Runs a power operation on a node through the provider, with the caller's signal and progress.
 * An aborted signal fails with `ABORTED` before the provider is asked; what a provider waits for
 * (a graceful stop) ends with `ABORTED` as soon as the signal fires, leaving the node as it is.
 */
export async function runPowerOperation(
  provider: HypervisorProvider,
  op: PowerOperation,
  id: string,
  options: OperationOptions,
): Promise<void> {
  throwIfAborted(options.signal, `${op} of node ${id}`);
  const forwarded: OperationOptions = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  switch (op) {
    case 'start':
      return provider.startNode(id, forwarded);
    case 'stop':
      return provider.stopNode(id, forwarded);
    case 'reboot':
      return provider.rebootNode(id, forwarded);
    case 'suspend':
      return provider.suspendNode(id, forwarded);
    case 'resume':
      return provider.resumeNode(id, forwarded);
  }
}

/**
 * Destroys one node with `destroy` progress events (fraction 0 when it starts, 1 when it is
 * gone); `NOT_FOUND` when the provider does not know it, `ABORTED` (nothing done) when the
 * signal has fired before the removal starts. A removal that has started runs to its end, so a
 * node is never left half-removed.
 */
export async function destroyOneNode(
  parts: NodeOperationParts,
  id: string,
  options: OperationOptions,
): Promise<void> {
  const { signal, onProgress } = options;
  throwIfAborted(signal, `destroy of node ${id}`);
  const node = await parts.provider.getNode(id);
  if (!node) throw new VmkitError('NOT_FOUND', `no node ${id}`, { details: { node: id } });
  throwIfAborted(signal, `destroy of node ${node.name}`);
  emitProgress(onProgress, {
    phase: 'destroy',
    node: node.name,
    fraction: 0,
    message: `destroying ${node.name}`,
  });
  await parts.launcher.destroy(node.id, node.name, onProgress ? { onProgress } : {});
  emitProgress(onProgress, {
    phase: 'destroy',
    node: node.name,
    fraction: 1,
    message: `${node.name} destroyed`,
  });
  await collectRetired(parts, [node.imageId]);
}

/**
 * Destroys the given nodes, at most `parts.clones` at once, with one `destroy` event per node
 * gone (the fraction counts the nodes done). Once the signal fires no further node is started;
 * those already removed stay removed and the call fails with `ABORTED`. Any other failure is
 * thrown after every node was attempted.
 */
export async function destroyNodes(
  parts: NodeOperationParts,
  doomed: readonly NodeMetadata[],
  options: OperationOptions,
): Promise<NodeMetadata[]> {
  const { signal, onProgress } = options;
  throwIfAborted(signal, 'destroying nodes');
  let done = 0;
  const settled = await mapSettled(doomed, parts.clones, async (n) => {
    throwIfAborted(signal, `destroy of node ${n.name}`);
    await parts.launcher.destroy(n.id, n.name, onProgress ? { onProgress } : {});
    done++;
    emitProgress(onProgress, {
      phase: 'destroy',
      node: n.name,
      fraction: done / doomed.length,
      message: `${n.name} destroyed (${done}/${doomed.length})`,
    });
  });
  await collectRetired(
    parts,
    doomed.map((n) => n.imageId),
  );
  const failed =
    settled.find((s) => s.status === 'rejected' && !VmkitError.is(s.reason, 'ABORTED')) ??
    settled.find((s) => s.status === 'rejected');
  if (!failed) return [...doomed];
  const reason = (failed as PromiseRejectedResult).reason;
  if (VmkitError.is(reason, 'ABORTED')) throw reason;
  throw partialDestroyError(doomed, settled, reason);
}

/**
 * The failure of a destroy of several nodes where some could not be removed (each was tried
 * again while the failure was retryable): the message names the nodes left and the nodes gone,
 * `details.remaining` and `details.destroyed` hold their ids.
 */
function partialDestroyError(
  doomed: readonly NodeMetadata[],
  settled: readonly PromiseSettledResult<unknown>[],
  reason: unknown,
): VmkitError {
  const first = toVmkitError(reason, 'PROVIDER', 'destroying nodes');
  const left = doomed.filter((_, i) => settled[i]?.status === 'rejected');
  const gone = doomed.filter((_, i) => settled[i]?.status === 'fulfilled');
  const names = (ns: readonly NodeMetadata[]) => ns.map((n) => n.name).join(', ') || 'none';
  return new VmkitError(
    first.code,
    `${left.length} of ${doomed.length} nodes could not be destroyed and may still exist: ${names(left)} ` +
      `(destroyed: ${names(gone)}; destroying them again finishes the job): ${first.message}`,
    {
      cause: first,
      retryable: first.retryable,
      fault: first.fault,
      details: { remaining: left.map((n) => n.id), destroyed: gone.map((n) => n.id) },
    },
  );
}
