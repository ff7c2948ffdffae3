import { VmkitError } from '../errors/vmkit-error.js';
import type { NodeSnapshot } from '../model/node-snapshot.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { SnapshotCapabilities } from '../spi/node-snapshots.js';
import { throwIfAborted } from '../util/abort.js';
import type { MemoryProviderData, MemoryProviderState, MemorySnapshot } from './memory-provider-state.js';

/** What the memory provider snapshots: everything, in every state (a fake with no real limits). */
export const MEMORY_SNAPSHOT_CAPABILITIES: SnapshotCapabilities = Object.freeze({
  stopped: true,
  runningWithMemory: true,
  runningDiskOnly: true,
  revertRunning: true,
  dataVolumes: true,
});

/** The snapshot methods of the memory provider. */
export type MemorySnapshotOps = Required<
  Pick<HypervisorProvider, 'snapshotNode' | 'listNodeSnapshots' | 'revertNode' | 'deleteNodeSnapshot'>
>;

/**
 * The memory provider's snapshots, kept beside its nodes (and removed with them by `destroyNode`):
 * a memory snapshot restores the node running, a disk one stopped. It enforces the SPI's rules
 * itself (unknown node or snapshot `NOT_FOUND`, a taken name `CONFLICT`) so core's checks are not
 * the only ones tested.
 */
export function memorySnapshots(state: MemoryProviderState, open: () => void): MemorySnapshotOps {
  const nodeOf = (d: MemoryProviderData, id: string) => {
    const node = d.nodes[id];
    if (!node) throw new VmkitError('NOT_FOUND', `node ${id} does not exist`, { details: { node: id } });
    return node;
  };
  const listOf = (d: MemoryProviderData, id: string): MemorySnapshot[] => {
    d.snapshots ??= {};
    d.snapshots[id] ??= [];
    return d.snapshots[id];
  };
  const view = (s: MemorySnapshot, current: string | undefined): NodeSnapshot => ({
    name: s.name,
    ...(s.description === undefined ? {} : { description: s.description }),
    createdAt: s.createdAt,
    memory: s.memory,
    current: s.name === current,
    ...(s.parent === undefined ? {} : { parent: s.parent }),
  });
  const missing = (id: string, name: string) =>
    new VmkitError('NOT_FOUND', `node ${id} has no snapshot ${name}`, {
      details: { node: id, snapshot: name },
    });
  // The current snapshot of each node: the last taken or reverted to.
  const current = (d: MemoryProviderData) => {
    d.currentSnapshot ??= {};
    return d.currentSnapshot;
  };
  return {
    async snapshotNode(id, request, options = {}) {
      open();
      throwIfAborted(options.signal, `snapshot of node ${id}`);
      return state.mutate((d) => {
        const node = nodeOf(d, id);
        const list = listOf(d, id);
        if (list.some((s) => s.name === request.name))
          throw new VmkitError('CONFLICT', `node ${node.name} already has a snapshot named ${request.name}`);
        const parent = current(d)[id];
        const taken: MemorySnapshot = {
          name: request.name,
          ...(request.description === undefined ? {} : { description: request.description }),
          createdAt: new Date().toISOString(),
          memory: request.memory,
          ...(parent === undefined ? {} : { parent }),
          status: request.memory ? 'running' : 'stopped',
        };
        list.push(taken);
        current(d)[id] = taken.name;
        return view(taken, taken.name);
      });
    },
    async listNodeSnapshots(id) {
      open();
      return state.read((d) => {
        nodeOf(d, id);
        return (d.snapshots?.[id] ?? []).map((s) => view(s, d.currentSnapshot?.[id]));
      });
    },
    async revertNode(id, name, options = {}) {
      open();
      throwIfAborted(options.signal, `revert of node ${id}`);
      state.mutate((d) => {
        const node = nodeOf(d, id);
        const snap = (d.snapshots?.[id] ?? []).find((s) => s.name === name);
        if (!snap) throw missing(id, name);
        d.nodes[id] = { ...node, status: snap.status };
        current(d)[id] = name;
      });
    },
    async deleteNodeSnapshot(id, name) {
      open();
      state.mutate((d) => {
        nodeOf(d, id);
        const list = listOf(d, id);
        const at = list.findIndex((s) => s.name === name);
        if (at < 0) throw missing(id, name);
        const [gone] = list.splice(at, 1);
        // Children of the deleted snapshot now follow its parent.
        for (const [i, s] of list.entries()) {
          if (s.parent !== name) continue;
          const { parent: _, ...rest } = s;
          list[i] = gone?.parent ? { ...rest, parent: gone.parent } : rest;
        }
        const heads = current(d);
        if (heads[id] === name) {
          if (gone?.parent) heads[id] = gone.parent;
          else delete heads[id];
        }
      });
    },
  };
}
