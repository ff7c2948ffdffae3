import { VmkitError } from '../errors/vmkit-error.js';
import type { NodeStatus } from '../model/node-metadata.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import { sleep, throwIfAborted } from '../util/abort.js';
import { emitProgress, type OperationOptions } from '../util/progress.js';
import type { MemoryProviderState } from './memory-provider-state.js';
import type { MemoryProviderFaults, MemoryProviderStats } from './memory-provider-types.js';

/** The node power and removal methods of the memory provider. */
export type MemoryNodeOps = Pick<
  HypervisorProvider,
  'startNode' | 'stopNode' | 'rebootNode' | 'suspendNode' | 'resumeNode' | 'destroyNode'
>;

/** What the memory provider's node methods share with it. */
export interface MemoryNodeOpsParts {
  readonly state: MemoryProviderState;
  readonly stats: MemoryProviderStats;
  /** The provider's faults, read at each call. */
  readonly faults: () => MemoryProviderFaults;
  /** Throws the closed error after `close`. */
  readonly open: () => void;
  /** Called each time a node boots (started from stopped, or rebooted). */
  readonly onBoot?: (nodeId: string) => void;
}

/**
 * The memory provider's node operations. Each fails with `ABORTED` (and changes nothing) when
 * its signal has fired; a graceful stop of a node with `faults.ignoreStop` (a guest that ignores
 * the ACPI power button) waits `stopGraceMs` before powering off, and that wait ends at once with
 * `ABORTED` when the signal fires, the node left running.
 */
export function memoryNodeOps(parts: MemoryNodeOpsParts): MemoryNodeOps {
  const { state, stats, open } = parts;
  const name = (nodeId: string): string => {
    const node = state.read((d) => d.nodes[nodeId]);
    if (!node)
      throw new VmkitError('NOT_FOUND', `node ${nodeId} does not exist`, { details: { node: nodeId } });
    return node.name;
  };
  const transition = (nodeId: string, from: readonly NodeStatus[], to: NodeStatus, op: string): void => {
    state.mutate((d) => {
      const node = d.nodes[nodeId];
      if (!node)
        throw new VmkitError('NOT_FOUND', `node ${nodeId} does not exist`, { details: { node: nodeId } });
      if (!from.includes(node.status)) {
        throw new VmkitError('CONFLICT', `cannot ${op} node ${node.name}: it is ${node.status}`, {
          details: { node: nodeId },
        });
      }
      d.nodes[nodeId] = { ...node, status: to };
    });
  };
  const begin = (op: string, nodeId: string, opts: OperationOptions = {}) => {
    open();
    throwIfAborted(opts.signal, `${op} of node ${nodeId}`);
  };
  return {
    async startNode(nodeId, opts) {
      begin('start', nodeId, opts);
      const node = name(nodeId);
      if (parts.faults().failStart?.test(node)) {
        throw new VmkitError('PROVIDER', `injected fault starting ${node}`, { details: { node: nodeId } });
      }
      const wasRunning = state.read((d) => d.nodes[nodeId]?.status === 'running');
      transition(nodeId, ['stopped', 'running'], 'running', 'start');
      if (!wasRunning) parts.onBoot?.(nodeId);
    },
    async stopNode(nodeId, opts) {
      begin('stop', nodeId, opts);
      const { ignoreStop, stopGraceMs = 1000 } = parts.faults();
      const running = state.read((d) => d.nodes[nodeId]?.status === 'running');
      if (running && ignoreStop?.test(name(nodeId))) {
        // The guest ignores the power button: wait out the grace period, then power off.
        await sleep(stopGraceMs, opts?.signal);
      }
      transition(nodeId, ['running', 'suspended', 'stopped'], 'stopped', 'stop');
    },
    async rebootNode(nodeId, opts) {
      begin('reboot', nodeId, opts);
      transition(nodeId, ['running'], 'running', 'reboot');
      parts.onBoot?.(nodeId);
    },
    async suspendNode(nodeId, opts) {
      begin('suspend', nodeId, opts);
      transition(nodeId, ['running'], 'suspended', 'suspend');
    },
    async resumeNode(nodeId, opts) {
      begin('resume', nodeId, opts);
      transition(nodeId, ['suspended'], 'running', 'resume');
    },
    async destroyNode(nodeId, opts = {}) {
      begin('destroy', nodeId, opts);
      stats.calls++;
      const removed = state.mutate((d) => {
        const node = d.nodes[nodeId];
        if (node) stats.destroys++;
        delete d.nodes[nodeId];
        // Its snapshots go with it.
        delete d.snapshots?.[nodeId];
        delete d.currentSnapshot?.[nodeId];
        // The node's own disk and its data volumes (`node:<id>:data<i>`).
        const disks = Object.keys(d.disks).filter(
          (k) => k === `node:${nodeId}` || k.startsWith(`node:${nodeId}:`),
        );
        for (const k of disks) delete d.disks[k];
        return node ? { node: node.name, disks: disks.length } : undefined;
      });
      if (removed) {
        emitProgress(opts.onProgress, {
          phase: 'destroy',
          node: removed.node,
          fraction: 1,
          message: `domain and ${removed.disks} disk(s) of ${removed.node} removed`,
        });
      }
    },
  };
}
