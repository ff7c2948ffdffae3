import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import {
  type NodeSnapshot,
  SNAPSHOT_NAME_PATTERN,
  type SnapshotNodeOptions,
} from '../model/node-snapshot.js';
import type { HypervisorProvider, ProviderNode } from '../spi/hypervisor-provider.js';
import type { ProviderNodeSnapshots, SnapshotCapabilities } from '../spi/node-snapshots.js';
import { throwIfAborted } from '../util/abort.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';

/** The longest snapshot description accepted. */
const MAX_DESCRIPTION_CHARS = 1000;

/** The snapshot rule in words, for errors. */
const NAME_RULE =
  "must be 1-64 letters, digits, '.', '_' or '-', start with a letter or a digit, and not be only digits";

/** Checks a snapshot name: `INVALID_ARGUMENT` naming `name` and the rule. */
export function checkSnapshotName(name: unknown): string {
  if (typeof name !== 'string' || !SNAPSHOT_NAME_PATTERN.test(name))
    throw invalidArgument('name', NAME_RULE, { value: typeof name === 'string' ? name : typeof name });
  return name;
}

/** The provider's snapshot methods and capabilities; `UNSUPPORTED` when it has none. */
async function snapshotSupport(
  provider: HypervisorProvider,
): Promise<{ caps: SnapshotCapabilities; ops: Required<ProviderNodeSnapshots> }> {
  const caps = (await provider.capabilities()).snapshots;
  const { snapshotNode, listNodeSnapshots, revertNode, deleteNodeSnapshot } = provider;
  if (!caps || !snapshotNode || !listNodeSnapshots || !revertNode || !deleteNodeSnapshot)
    throw new VmkitError('UNSUPPORTED', `the ${provider.name} provider cannot snapshot nodes`);
  return {
    caps,
    ops: {
      snapshotNode: snapshotNode.bind(provider),
      listNodeSnapshots: listNodeSnapshots.bind(provider),
      revertNode: revertNode.bind(provider),
      deleteNodeSnapshot: deleteNodeSnapshot.bind(provider),
    },
  };
}

/** The node, or `NOT_FOUND`. */
async function existingNode(provider: HypervisorProvider, id: string): Promise<ProviderNode> {
  const node = await provider.getNode(id);
  if (!node) throw new VmkitError('NOT_FOUND', `no node ${id}`, { details: { node: id } });
  return node;
}

/** The named snapshot of the node, or `NOT_FOUND` naming the snapshots it has. */
async function existingSnapshot(
  ops: Required<ProviderNodeSnapshots>,
  node: ProviderNode,
  name: string,
): Promise<NodeSnapshot> {
  const all = await ops.listNodeSnapshots(node.id);
  const found = all.find((s) => s.name === name);
  if (!found) {
    const has = all.map((s) => s.name).join(', ') || 'none';
    throw new VmkitError('NOT_FOUND', `node ${node.name} has no snapshot ${name} (it has: ${has})`, {
      details: { node: node.id, snapshot: name },
    });
  }
  return found;
}

/** Refuses what the provider cannot snapshot in the node's state, with the reason. */
function checkSnapshotState(
  provider: HypervisorProvider,
  caps: SnapshotCapabilities,
  node: ProviderNode | NodeMetadata,
  memory: boolean,
): void {
  const details = { node: node.id, status: node.status };
  if (node.status === 'stopped') {
    if (memory)
      throw new VmkitError('CONFLICT', `memory: node ${node.name} is stopped, it has no memory to save`, {
        details: { ...details, field: 'memory' },
      });
    if (!caps.stopped)
      throw new VmkitError('UNSUPPORTED', `the ${provider.name} provider cannot snapshot a stopped node`, {
        details,
      });
    return;
  }
  if (node.status !== 'running')
    throw new VmkitError(
      'CONFLICT',
      `node ${node.name} is ${node.status}: snapshots are taken of running or stopped nodes`,
      { details },
    );
  if (memory && !caps.runningWithMemory)
    throw new VmkitError(
      'UNSUPPORTED',
      `memory: the ${provider.name} provider cannot save a running node's memory; stop node ${node.name} and snapshot its disk`,
      { details: { ...details, field: 'memory' } },
    );
  if (!memory && !caps.runningDiskOnly)
    throw new VmkitError(
      'UNSUPPORTED',
      `memory: the ${provider.name} provider snapshots a running node only with its memory ` +
        `(its snapshots are internal to the node's disk, which cannot be taken alone while the node runs); ` +
        `pass memory: true, or stop node ${node.name} first`,
      { details: { ...details, field: 'memory' } },
    );
}

/**
 * Takes a snapshot of a node after checking the name, the options, the provider's capabilities in
 * the node's state, and that the name is free (`CONFLICT`). A fired signal stops it before the
 * provider is asked; once the provider runs it, it runs to its end. `snapshot` progress events
 * mark its start and end.
 */
export async function snapshotNode(
  provider: HypervisorProvider,
  id: string,
  name: string,
  options: SnapshotNodeOptions = {},
): Promise<NodeSnapshot> {
  checkSnapshotName(name);
  const { memory = false, description, signal, onProgress } = options;
  if (typeof memory !== 'boolean') throw invalidArgument('memory', 'must be a boolean');
  if (
    description !== undefined &&
    (typeof description !== 'string' || description.length > MAX_DESCRIPTION_CHARS)
  )
    throw invalidArgument('description', `must be a string of at most ${MAX_DESCRIPTION_CHARS} characters`);
  throwIfAborted(signal, `snapshot of node ${id}`);
  const { caps, ops } = await snapshotSupport(provider);
  const node = await existingNode(provider, id);
  checkSnapshotState(provider, caps, node, memory);
  if ((await ops.listNodeSnapshots(node.id)).some((s) => s.name === name))
    throw new VmkitError('CONFLICT', `node ${node.name} already has a snapshot named ${name}`, {
      details: { node: node.id, snapshot: name },
    });
  throwIfAborted(signal, `snapshot of node ${node.name}`);
  const subject = { phase: 'snapshot', node: node.name } as const;
  emitProgress(onProgress, { ...subject, fraction: 0, message: `taking snapshot ${name} of ${node.name}` });
  const taken = await ops.snapshotNode(
    node.id,
    { name, memory, ...(description === undefined ? {} : { description }) },
    { ...(onProgress ? { onProgress } : {}) },
  );
  emitProgress(onProgress, { ...subject, fraction: 1, message: `snapshot ${name} of ${node.name} taken` });
  return taken;
}

/** A node's snapshots, oldest first; `NOT_FOUND` for an unknown node. */
export async function listNodeSnapshots(provider: HypervisorProvider, id: string): Promise<NodeSnapshot[]> {
  const { ops } = await snapshotSupport(provider);
  const node = await existingNode(provider, id);
  return [...(await ops.listNodeSnapshots(node.id))];
}

/**
 * Reverts a node to one of its snapshots: `NOT_FOUND` for an unknown node or snapshot, `CONFLICT`
 * for a running node where the provider reverts stopped nodes only. A fired signal stops it before
 * the provider is asked.
 */
export async function revertNode(
  provider: HypervisorProvider,
  id: string,
  name: string,
  options: OperationOptions = {},
): Promise<void> {
  checkSnapshotName(name);
  throwIfAborted(options.signal, `revert of node ${id}`);
  const { caps, ops } = await snapshotSupport(provider);
  const node = await existingNode(provider, id);
  await existingSnapshot(ops, node, name);
  if (node.status !== 'stopped' && !caps.revertRunning)
    throw new VmkitError(
      'CONFLICT',
      `node ${node.name} is ${node.status}: the ${provider.name} provider reverts stopped nodes only; stop it first`,
      { details: { node: node.id, status: node.status } },
    );
  throwIfAborted(options.signal, `revert of node ${node.name}`);
  const subject = { phase: 'snapshot', node: node.name } as const;
  emitProgress(options.onProgress, { ...subject, fraction: 0, message: `reverting ${node.name} to ${name}` });
  await ops.revertNode(node.id, name, options.onProgress ? { onProgress: options.onProgress } : {});
  emitProgress(options.onProgress, { ...subject, fraction: 1, message: `${node.name} reverted to ${name}` });
}

/** Deletes one snapshot of a node: `NOT_FOUND` for an unknown node or snapshot. */
export async function deleteNodeSnapshot(
  provider: HypervisorProvider,
  id: string,
  name: string,
): Promise<void> {
  checkSnapshotName(name);
  const { ops } = await snapshotSupport(provider);
  const node = await existingNode(provider, id);
  await existingSnapshot(ops, node, name);
  await ops.deleteNodeSnapshot(node.id, name);
}
