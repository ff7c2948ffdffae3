import { randomUUID } from 'node:crypto';
import { VmkitError } from '../errors/vmkit-error.js';
import { DEFAULT_HARDWARE_PROFILES } from '../model/hardware.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { CloneSpec } from '../spi/clone-spec.js';
import type { GuestAgent, GuestAgentAccess } from '../spi/guest-agent.js';
import type { ProviderCapabilities, ProviderNode } from '../spi/hypervisor-provider.js';
import type { BuildContext, BuildStep, MasterBuild, MasterRef } from '../spi/master-build.js';
import { STANDARD_BUILD_STEPS } from '../spi/master-build.js';
import { sleep, throwIfAborted } from '../util/abort.js';
import { Lifecycle } from '../util/lifecycle.js';
import type { OperationOptions } from '../util/progress.js';
import { memoryHousekeeping } from './memory-housekeeping.js';
import { memoryMasterExport } from './memory-master-export.js';
import { memoryMasterImport } from './memory-master-import.js';
import { checkMemoryMasterRef } from './memory-master-ref-check.js';
import { MEMORY_NODE_IMAGE_CAPABILITIES, memoryNodeImages } from './memory-node-images.js';
import { memoryNodeOps } from './memory-node-ops.js';
import { MemoryProviderState } from './memory-provider-state.js';
import type { MemoryProvider, MemoryProviderOptions, MemoryProviderStats } from './memory-provider-types.js';
import { MEMORY_SNAPSHOT_CAPABILITIES, memorySnapshots } from './memory-snapshots.js';

export type {
  MemoryProvider,
  MemoryProviderFaults,
  MemoryProviderOptions,
  MemoryProviderStats,
} from './memory-provider-types.js';

const CAPABILITIES: ProviderCapabilities = Object.freeze({
  linkedClones: true,
  attachments: Object.freeze(['nat', 'bridged', 'hostOnly', 'internal'] as const),
  portForwarding: true,
  configDriveFormats: Object.freeze(['nocloud', 'openstack', 'ovf'] as const),
  sources: Object.freeze(['disk', 'iso', 'kernel'] as const),
  suspend: true,
  dataVolumes: true,
  snapshots: MEMORY_SNAPSHOT_CAPABILITIES,
  imageFromNode: MEMORY_NODE_IMAGE_CAPABILITIES,
  firmware: Object.freeze(['bios', 'efi'] as const),
});

/**
 * An in-memory hypervisor that passes the provider contract: for callers' own tests and for
 * vmkit's. It can inject faults (fail a build step, fail clone k, slow builds) and share its state
 * between processes through a file.
 */
export function memoryProvider(options: MemoryProviderOptions = {}): MemoryProvider {
  const state = new MemoryProviderState(options.statePath);
  const stats: MemoryProviderStats = { builds: 0, imports: 0, clones: 0, destroys: 0, calls: 0 };
  let cloneCount = 0;
  const boots = new Map<string, number>();
  const boot = (nodeId: string) => boots.set(nodeId, (boots.get(nodeId) ?? 0) + 1);
  const agentFactory = options.guestAgent;
  // With an agent, NICs are listed with their addresses not known (the fake guest has none).
  const withAgentView = (node: ProviderNode): ProviderNode =>
    agentFactory
      ? { ...node, nicAddresses: node.network.nics.map((n) => ({ slot: n.slot, mac: n.mac })) }
      : node;
  const id = options.id ?? (options.statePath ? `memory:${options.statePath}` : `memory:${randomUUID()}`);

  // After close every provider call fails with the closed error; the test handles stay usable.
  const life = new Lifecycle(`the memory provider ${id}`);
  const open = () => life.assertOpen();

  const provider: MemoryProvider = {
    name: 'memory',
    id,
    init: () => life.open(),
    close: () => life.close(),
    faults: { ...options.faults },
    stats,
    ...memoryHousekeeping(state),
    ...memoryMasterExport(state),
    ...memoryMasterImport(state, () => stats.imports++),
    async capabilities() {
      open();
      return agentFactory ? { ...CAPABILITIES, guestAgent: true } : CAPABILITIES;
    },
    async hardwareProfiles() {
      open();
      return DEFAULT_HARDWARE_PROFILES;
    },
    async listHostNetworks() {
      open();
      return [
        { name: 'br0', kind: 'bridge', up: true, addresses: ['192.0.2.1/24'] },
        { name: 'vmkit-hostonly', kind: 'hostOnly', up: true },
      ];
    },
    planMasterBuild(spec: MasterSpec, masterName: string): MasterBuild {
      open();
      const faults = provider.faults;
      const steps: BuildStep[] = STANDARD_BUILD_STEPS.map((name, index) => ({
        name,
        async run(ctx: BuildContext) {
          throwIfAborted(ctx.signal, `step ${name}`);
          if (index === 0) {
            stats.builds++;
            state.mutate((d) => {
              d.masters[masterName] = {
                name: masterName,
                imageId: spec.id,
                ready: false,
                steps: [],
                createdAt: new Date().toISOString(),
              };
              d.disks[`master:${masterName}`] = {};
            });
            if (faults.buildDelayMs) {
              for (let t = 0; t < faults.buildDelayMs; t += 10) {
                await sleep(Math.min(10, faults.buildDelayMs - t), ctx.signal);
                ctx.progress(t / faults.buildDelayMs);
              }
            }
          }
          if (faults.failStep === name || faults.failStep === index + 1) {
            throw new VmkitError('PROVIDER', `injected fault in step ${name}`, { details: { step: name } });
          }
          if (name === 'post-install' && (spec.postInstall ?? []).length === 0) {
            ctx.markSkipped('the spec has no post-install steps');
            return;
          }
          state.mutate((d) => d.masters[masterName]?.steps.push(name));
          ctx.progress(1);
        },
      }));
      return {
        initialState: () => undefined,
        steps,
        async finish(): Promise<MasterRef> {
          state.mutate((d) => {
            const master = d.masters[masterName];
            if (!master) throw new VmkitError('PROVIDER', `master ${masterName} vanished during its build`);
            master.ready = true;
          });
          return { id: masterName, data: { disk: `master:${masterName}` } };
        },
        async discard() {
          state.mutate((d) => {
            delete d.masters[masterName];
            delete d.disks[`master:${masterName}`];
          });
        },
      };
    },
    checkMasterRef: checkMemoryMasterRef,
    async mastersExist(refs) {
      open();
      stats.calls++;
      return state.read((d) => refs.map((r) => d.masters[r.id]?.ready === true));
    },
    async deleteMaster(ref) {
      open();
      state.mutate((d) => {
        delete d.masters[ref.id];
        delete d.disks[`master:${ref.id}`];
      });
    },
    async cloneNode(spec: CloneSpec, opts: OperationOptions = {}): Promise<ProviderNode> {
      open();
      stats.calls++;
      throwIfAborted(opts.signal, `clone ${spec.name}`);
      if (spec.sharedFolders?.length) {
        throw new VmkitError(
          'UNSUPPORTED',
          'sharedFolders: the memory provider runs no guest to share folders with',
          {
            details: { field: 'sharedFolders' },
          },
        );
      }
      const k = ++cloneCount;
      const ready = state.read((d) => d.masters[spec.master.id]?.ready === true);
      if (!ready)
        throw new VmkitError('NOT_FOUND', `master ${spec.master.id} does not exist`, {
          details: { master: spec.master.id },
        });
      if (state.read((d) => Object.values(d.nodes).some((n) => n.name === spec.name))) {
        throw new VmkitError('CONFLICT', `a node named ${spec.name} exists`, {
          details: { node: spec.name },
        });
      }
      const nodeId = `mem-${randomUUID()}`;
      const disk = `node:${nodeId}`;
      // The boot disk and the data volumes (`node:<id>:data<i>`), all removed again on failure.
      const disks = [disk, ...(spec.dataVolumes ?? []).map((_, i) => `${disk}:data${i}`)];
      state.mutate((d) => {
        d.disks[disk] = spec.linked ? { backing: `master:${spec.master.id}` } : {};
        for (const [i, v] of (spec.dataVolumes ?? []).entries()) {
          d.disks[`${disk}:data${i}`] = {
            bytes: v.sizeMiB * 1024 * 1024,
            ...(v.label ? { label: v.label } : {}),
          };
        }
      });
      try {
        if (provider.faults.cloneDelayMs) await sleep(provider.faults.cloneDelayMs, opts.signal);
        const failing = provider.faults.failClone;
        if (failing === k || (Array.isArray(failing) && failing.includes(k))) {
          throw new VmkitError('PROVIDER', `injected fault in clone ${k} (${spec.name})`, {
            details: { node: spec.name },
          });
        }
        throwIfAborted(opts.signal, `clone ${spec.name}`);
        const node: ProviderNode = {
          id: nodeId,
          name: spec.name,
          group: spec.group,
          imageId: spec.imageId,
          master: spec.master.id,
          status: 'stopped',
          hardware: spec.hardware,
          network: spec.network,
          publicAddresses: [],
          privateAddresses: [`10.0.2.${15 + (k % 200)}`],
          tags: [...spec.tags],
          userMetadata: { ...spec.userMetadata },
          linkedClone: spec.linked,
          createdAt: new Date().toISOString(),
        };
        stats.clones++;
        state.mutate((d) => {
          d.nodes[nodeId] = node;
        });
        return node;
      } catch (error) {
        state.mutate((d) => {
          for (const name of disks) delete d.disks[name];
        });
        throw error;
      }
    },
    ...memoryNodeOps({ state, stats, faults: () => provider.faults, open, onBoot: boot }),
    ...memorySnapshots(state, open),
    ...memoryNodeImages(state, () => provider.faults, open),
    async listNodes() {
      open();
      stats.calls++;
      return state.read((d) => Object.values(d.nodes)).map(withAgentView);
    },
    async getNode(nodeId) {
      open();
      const node = state.read((d) => d.nodes[nodeId]);
      return node && withAgentView(node);
    },
    ...(agentFactory
      ? {
          async guestAgent(nodeId: string, access: GuestAgentAccess): Promise<GuestAgent> {
            open();
            const node = state.read((d) => d.nodes[nodeId]);
            if (!node) throw new VmkitError('NOT_FOUND', `no node ${nodeId}`, { details: { node: nodeId } });
            if (node.status !== 'running')
              throw new VmkitError('CONFLICT', `node ${node.name} is ${node.status}, not running`, {
                details: { node: node.name },
              });
            return agentFactory(node, access);
          },
        }
      : {}),
    masterNames() {
      return state.read((d) => Object.keys(d.masters));
    },
    bootCount(nodeId) {
      return boots.get(nodeId) ?? 0;
    },
    diskNames() {
      return state.read((d) => Object.keys(d.disks));
    },
    masterSteps(name) {
      return state.read((d) => d.masters[name]?.steps.slice());
    },
    diskBacking(name) {
      return state.read((d) => (d.disks[name] ? (d.disks[name].backing ?? null) : undefined));
    },
    plantLeftover(masterName, imageId, createdAt = new Date().toISOString()) {
      state.mutate((d) => {
        d.masters[masterName] = {
          name: masterName,
          imageId,
          ready: false,
          steps: ['create-and-install'],
          createdAt,
        };
        d.disks[`master:${masterName}`] = {};
      });
    },
    vanishMaster(name) {
      state.mutate((d) => {
        delete d.masters[name];
        delete d.disks[`master:${name}`];
      });
    },
  };
  return provider;
}
