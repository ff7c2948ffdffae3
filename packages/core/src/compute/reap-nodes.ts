import { VmkitError } from '../errors/vmkit-error.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { ProviderNode } from '../spi/hypervisor-provider.js';
import { throwIfAborted } from '../util/abort.js';
import { mapSettled } from '../util/concurrency.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';
import { collectRetired, type NodeOperationParts } from './node-operations.js';
import { type NodeOwner, ownerOfNode } from './node-owner.js';
import { nodeMetadataOf } from './node-view.js';

/** Options of `ComputeService.reapNodes`. */
export interface ReapNodesOptions extends OperationOptions {
  /** Report the nodes that would be reaped, remove nothing. */
  readonly dryRun?: boolean;
}

/** What `reapNodes` did. */
export interface ReapResult {
  /** Whether this was a dry run (nothing removed). */
  readonly dryRun: boolean;
  /** The ephemeral nodes of dead owners that were removed (or would be). */
  readonly removed: readonly NodeMetadata[];
  /** Those that could not be removed, with the error message; the rest went on. */
  readonly failed: ReadonlyArray<{ readonly id: string; readonly name: string; readonly error: string }>;
}

/** What reaping needs of a compute service (internal). */
export interface ReapParts extends NodeOperationParts {
  readonly owner: NodeOwner;
}

/**
 * Removes the ephemeral nodes whose owner is dead, with their disks and port leases, through the
 * provider's `destroyNode`. Which nodes are ephemeral and whose, only each node's own mark (kept
 * by the hypervisor) says; the store says only which owner leases are live. Nodes without a mark,
 * of a live owner or of this service are never touched. Nodes are listed before the leases are
 * read, and an owner takes its lease before it makes a node, so a node made meanwhile is safe.
 */
export async function reapNodes(parts: ReapParts, options: ReapNodesOptions = {}): Promise<ReapResult> {
  const dryRun = options.dryRun === true;
  throwIfAborted(options.signal, 'reaping nodes');
  const marked = (await parts.provider.listNodes()).flatMap((node) => {
    const owner = ownerOfNode(node);
    return owner === undefined || parts.owner.owns(owner) ? [] : [{ node, owner }];
  });
  if (marked.length === 0) return { dryRun, removed: [], failed: [] };
  const live = await parts.owner.liveOwners();
  const doomed = marked.filter((m) => !live.has(m.owner)).map((m) => view(parts, m.node));
  if (dryRun || doomed.length === 0) return { dryRun, removed: doomed, failed: [] };
  const settled = await mapSettled(doomed, parts.clones, async (node) => {
    throwIfAborted(options.signal, `reaping node ${node.name}`);
    try {
      await parts.launcher.destroy(node.id, node.name);
    } catch (error) {
      if (!VmkitError.is(error, 'NOT_FOUND')) throw error; // gone meanwhile: reaped all the same
    }
    emitProgress(options.onProgress, {
      phase: 'destroy',
      node: node.name,
      message: `reaped ${node.name}: its owner is gone`,
    });
  });
  const removed = doomed.filter((_, i) => settled[i]?.status === 'fulfilled');
  const failed = doomed.flatMap((node, i) => {
    const s = settled[i];
    return s?.status === 'rejected' ? [{ id: node.id, name: node.name, error: messageOf(s.reason) }] : [];
  });
  await collectRetired(
    parts,
    removed.map((n) => n.imageId),
  );
  await parts.owner.removeStale();
  if (removed.length > 0)
    parts.logger.info('reaped ephemeral nodes of dead owners', { count: removed.length });
  for (const f of failed)
    parts.logger.warn('could not reap an ephemeral node', { node: f.name, error: f.error });
  return { dryRun, removed, failed };
}

/**
 * Destroys this service's own ephemeral nodes (on `close()` with `destroyOnClose`); returns the
 * names of those that could not be removed (they are reaped once the owner lease lapses).
 */
export async function destroyOwnNodes(parts: ReapParts): Promise<string[]> {
  const own = (await parts.provider.listNodes()).filter((node) => {
    const owner = ownerOfNode(node);
    return owner !== undefined && parts.owner.owns(owner);
  });
  const settled = await mapSettled(own, parts.clones, (node) => parts.launcher.destroy(node.id, node.name));
  await collectRetired(
    parts,
    own.map((n) => n.imageId),
  );
  return own.filter((_, i) => settled[i]?.status === 'rejected').map((n) => n.name);
}

function view(parts: ReapParts, node: ProviderNode): NodeMetadata {
  return nodeMetadataOf(node, parts.cache.image(node.imageId));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
