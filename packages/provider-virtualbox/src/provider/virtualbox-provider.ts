import type {
  GuestAgent,
  GuestAgentAccess,
  HostNetwork,
  HypervisorProvider,
  MasterSpec,
  NodeImageRequest,
  NodeSnapshot,
  OperationOptions,
  ProviderCapabilities,
  SnapshotRequest,
} from '@vmkit/core/spi';
import {
  type CloneSpec,
  type DiskBytes,
  Lifecycle,
  type MasterBuild,
  type MasterDiskExport,
  type MasterDiskExportOptions,
  type MasterDiskImport,
  type MasterRef,
  type ProviderArtefact,
  type ProviderHost,
  type ProviderNode,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/spi';
import { providerBootIsoCache } from '@vmkit/imaging';
import type * as vbox from 'virtualbox-soap';
import { type VboxApi, VboxConnection } from '../soap/connection.js';
import { hasResult, isNotFound, isSessionLost, readFault, VBOX_RESULT } from '../soap/errors.js';
import { vboxHostOf } from './host/host-identity.js';
import { listVboxHostNetworks } from './host/host-networks.js';
import { assertBootIsoFile, bootIsoExists, deleteBootIsoMaster } from './master/boot-iso-master.js';
import { listBuildArtefacts, removeBuildArtefact } from './master/build-artefacts.js';
import { masterBytes, nodeBytes } from './master/disk-usage.js';
import {
  deleteMasterMachine,
  masterMachineOf,
  planVirtualBoxMasterBuild,
  type VboxMasterData,
} from './master/master-build.js';
import { exportVboxMaster } from './master/master-export.js';
import { importVboxMaster } from './master/master-import.js';
import { checkVboxMasterRef } from './master/master-ref-check.js';
import { cloneVboxNode, validateCloneSpec } from './node/clone-node.js';
import { CloneSources } from './node/clone-sources.js';
import { VboxGuestAgent } from './node/guest-control-agent.js';
import { powerOff } from './node/machine-power.js';
import { createVboxMasterFromNode } from './node/node-image.js';
import { sweepNodeLeftovers } from './node/node-leftovers.js';
import {
  describeMachine,
  type Found,
  findNode,
  launchNode,
  removeNode,
  withConsole,
} from './node/node-ops.js';
import { listNodeRecords, type NodeRecord } from './node/node-records.js';
import {
  deleteVboxNodeSnapshot,
  listVboxNodeSnapshots,
  revertVboxNode,
  snapshotVboxNode,
} from './node/node-snapshots.js';
import { reconcileHalfMadeNodes } from './node/reconcile.js';
import {
  masterMachineName,
  powerOptions,
  VBOX_CAPABILITIES,
  type VboxContext,
} from './virtualbox-context.js';
import {
  type ResolvedVirtualBoxProviderOptions,
  resolveVirtualBoxProviderOptions,
  type VirtualBoxProviderOptions,
} from './virtualbox-provider-options.js';

/**
 * The VirtualBox provider: masters are registered machines with a snapshot, nodes are linked
 * clones of that snapshot (`IMachine.cloneTo`), configured under one write lock, all through
 * vboxwebsrv with `virtualbox-soap`. Node metadata lives in each machine's extra data, so every
 * process sees the same nodes. One websession per provider, logged off on `close`.
 */
export class VirtualBoxProvider implements HypervisorProvider {
  readonly name = 'virtualbox';
  readonly id: string;
  /** The web service's host, from its URL (see `docs/remote-hosts.md`). */
  readonly host: ProviderHost;
  readonly #options: ResolvedVirtualBoxProviderOptions;
  readonly #conn: VboxConnection;
  readonly #ctx: VboxContext;
  readonly #sources = new CloneSources();
  /** Nodes this provider made, so starting and destroying them needs no lookup (per websession). */
  readonly #made = new Map<string, Found & { generation: number }>();
  readonly #life: Lifecycle;

  constructor(options: VirtualBoxProviderOptions) {
    this.#options = resolveVirtualBoxProviderOptions(options);
    this.id = `virtualbox:${this.#options.url}`;
    this.host = vboxHostOf(this.#options.url);
    this.#conn = new VboxConnection(this.#options);
    this.#ctx = {
      conn: this.#conn,
      options: this.#options,
      bootIsos: providerBootIsoCache(options.bootIsoCache),
    };
    this.#life = new Lifecycle(`VirtualBox provider for ${this.#options.url}`, {
      open: () =>
        this.#conn.run('start-up reconciliation', async (api) => {
          await reconcileHalfMadeNodes(this.#ctx, api);
        }),
      // Logging off happens in close() itself: also after an open that failed half-way.
    });
  }

  /** Connects, logs on and removes half-made nodes (see `reconcileAfterMs`); once. */
  init(): Promise<void> {
    return this.#life.open();
  }

  async #run<T>(
    what: string,
    fn: (api: VboxApi) => Promise<T>,
    idempotent = false,
    signal?: AbortSignal,
  ): Promise<T> {
    await this.init();
    return this.#conn.run(what, fn, idempotent, signal);
  }

  async capabilities(): Promise<ProviderCapabilities> {
    this.#life.assertOpen();
    return VBOX_CAPABILITIES;
  }

  async listHostNetworks(): Promise<readonly HostNetwork[]> {
    return this.#run('listing host networks', listVboxHostNetworks, true);
  }

  planMasterBuild(spec: MasterSpec, masterName: string): MasterBuild {
    void masterName;
    return planVirtualBoxMasterBuild(async () => {
      await this.init();
      return this.#ctx;
    }, spec);
  }

  /** Checks a stored master reference against what this provider would have made (rules: `docs/virtualbox.md`). */
  checkMasterRef(ref: MasterRef, spec: MasterSpec | undefined): void {
    checkVboxMasterRef(this.#options, ref, spec);
  }

  /** The reference checked without a spec (defence in depth before acting); `undefined` when it fails. */
  #valid(ref: MasterRef): VboxMasterData | undefined {
    try {
      return checkVboxMasterRef(this.#options, ref, undefined);
    } catch (error) {
      this.#options.logger.warn('virtualbox: a master reference breaks a rule, not touched', {
        master: String(ref?.id),
        reason: (error as Error).message,
      });
      return undefined;
    }
  }

  async mastersExist(refs: readonly MasterRef[]): Promise<boolean[]> {
    return this.#run(
      'checking masters',
      async (api) => {
        const out: boolean[] = [];
        for (const ref of refs) {
          // A reference that names what vmkit would not have made is no master of ours.
          if (!this.#valid(ref)) {
            out.push(false);
            continue;
          }
          const iso = (ref.data as Partial<VboxMasterData> | undefined)?.bootIso;
          if (iso) {
            out.push(await bootIsoExists(iso));
            continue;
          }
          try {
            await api.vbox.findMachine(masterMachineOf(ref));
            out.push(true);
          } catch (error) {
            if (!isNotFound(error)) throw error;
            out.push(false);
          }
        }
        return out;
      },
      true,
    );
  }

  async deleteMaster(ref: MasterRef): Promise<void> {
    // Checked again here (core checks at load): never a machine without the prefix or not named
    // as a master, never a file outside the machine folder.
    const data = checkVboxMasterRef(this.#options, ref, undefined);
    await this.init();
    this.#sources.clear();
    const keep = data.disk && !data.ownsDisk ? [data.disk] : [];
    // Its linked clones' disks are children of its disk (a boot ISO's nodes have it attached):
    // refuse before unregistering anything.
    const clones = (await this.#run('listing nodes', (api) => this.#records(api), true)).filter(
      (r) => (r.meta.linkedClone || data.bootIso) && r.meta.master === data.machine,
    );
    if (clones.length > 0)
      throw new VmkitError(
        'CONFLICT',
        `master ${ref.id} still has ${clones.length} linked clone(s) (${clones.map((r) => r.meta.name).join(', ')}): destroy them first`,
      );
    if (data.bootIso)
      return deleteBootIsoMaster(this.#ctx, { path: data.bootIso, owned: data.ownsIso === true });
    await deleteMasterMachine(this.#ctx, data.machine, keep);
  }

  /** A master's base disk, copied as stored or compressed to qcow2; bootIso masters: `UNSUPPORTED`. */
  async exportMasterDisk(ref: MasterRef, to: string, o?: MasterDiskExportOptions): Promise<MasterDiskExport> {
    await this.init();
    return exportVboxMaster(this.#ctx, ref, to, o);
  }

  /** Adopts a shared master's disk: inspected, converted to VDI, registered and snapshotted. */
  async importMasterDisk(
    masterName: string,
    fromPath: string,
    disk: MasterDiskImport,
    options?: OperationOptions,
  ): Promise<MasterRef> {
    await this.init();
    this.#sources.clear();
    return importVboxMaster(this.#ctx, masterName, fromPath, disk, options);
  }

  /** Master machines and the files builds leave in the machine folder (see `docs/housekeeping.md`). */
  async listArtefacts(): Promise<readonly ProviderArtefact[]> {
    return this.#run(
      'listing build artefacts',
      async (api) => listBuildArtefacts(this.#ctx, api, await this.#records(api)),
      true,
    );
  }

  async removeArtefact(artefact: ProviderArtefact): Promise<void> {
    await this.init();
    this.#sources.clear();
    await removeBuildArtefact(this.#ctx, artefact);
  }

  async masterDiskUsage(refs: readonly MasterRef[]): Promise<Array<DiskBytes | undefined>> {
    return this.#measure('masters', refs, (api, ref) => masterBytes(this.#ctx, api, ref));
  }

  async nodeDiskUsage(ids: readonly string[]): Promise<Array<DiskBytes | undefined>> {
    return this.#measure('nodes', ids, (api, id) => nodeBytes(this.#ctx, api, id));
  }

  /** Measures each item in turn within one websession. */
  #measure<T>(
    what: string,
    items: readonly T[],
    fn: (api: VboxApi, item: T) => Promise<DiskBytes | undefined>,
  ): Promise<Array<DiskBytes | undefined>> {
    return this.#run(
      `measuring ${what}`,
      async (api) => {
        const out: Array<DiskBytes | undefined> = [];
        for (const item of items) out.push(await fn(api, item));
        return out;
      },
      true,
    );
  }

  async cloneNode(spec: CloneSpec, options: OperationOptions = {}): Promise<ProviderNode> {
    validateCloneSpec(spec);
    throwIfAborted(options.signal, `clone of ${spec.name}`);
    const bootIso = this.#cloneSource(spec.master).bootIso;
    if (bootIso) await assertBootIsoFile(bootIso);
    try {
      return await this.#run(`cloning node ${spec.name}`, async (api) => {
        let source: vbox.IMachine | { bootIso: string };
        try {
          source = bootIso ? { bootIso } : await this.#sources.get(api, spec.master);
        } catch (error) {
          this.#sources.forget(spec.master);
          throw error;
        }
        const made = await cloneVboxNode(this.#ctx, api, source, spec, options);
        this.#made.set(made.node.id, { machine: made.machine, meta: made.meta, generation: api.generation });
        return made.node;
      });
    } catch (error) {
      if (!isSessionLost(error)) throw error;
      await this.#sweepInterrupted(`${this.#options.namePrefix}${spec.name}`, error, options.signal);
      throw error;
    }
  }

  /**
   * After vboxwebsrv lost the websession mid-clone or mid-removal, the references to what was
   * being made are gone: logs on again (waiting for vboxwebsrv) and removes by name what is left
   * (see {@link sweepNodeLeftovers}). When that cannot be done, the error says the node may be
   * left half-made (not retryable: a later start-up or destroy must clean it).
   */
  async #sweepInterrupted(name: string, cause: unknown, signal?: AbortSignal): Promise<void> {
    this.#made.delete(name);
    try {
      await this.#conn.run(
        `removing what the interrupted ${name} left`,
        (api) => sweepNodeLeftovers(this.#ctx, api, name),
        true,
        signal,
      );
    } catch (sweepError) {
      throw new VmkitError(
        'PROVIDER',
        `${(cause as Error).message}; what it made of ${name} could not be removed: ${(sweepError as Error).message}`,
        { cause, details: { node: name } },
      );
    }
  }

  /**
   * The master of a clone, checked again (core checks at load): a reference naming what vmkit
   * would not have made is no master of this provider, `NOT_FOUND` with the broken rule as cause.
   */
  #cloneSource(ref: MasterRef): VboxMasterData {
    try {
      return checkVboxMasterRef(this.#options, ref, undefined);
    } catch (error) {
      throw new VmkitError(
        'NOT_FOUND',
        `master ${String(ref?.id)} is not a master vmkit made on VirtualBox`,
        {
          cause: error,
        },
      );
    }
  }

  async startNode(id: string, options: OperationOptions = {}): Promise<void> {
    throwIfAborted(options.signal, `start of ${id}`);
    // Starting again is harmless (a running node is not a failure): retried after a lost websession.
    await this.#run(
      `starting ${id}`,
      (api) =>
        this.#retryFresh(api, id, ({ machine }) => launchNode(this.#ctx, api, id, machine, options.signal)),
      true,
      options.signal,
    );
  }

  /**
   * Runs `fn` on a remembered node; when VirtualBox says the remembered machine object is gone
   * (deleted elsewhere: "not ready", or an unknown reference), forgets it and runs `fn` once on a
   * fresh lookup (which is `NOT_FOUND` for a node removed elsewhere). Other failures propagate.
   */
  async #retryFresh<T>(api: VboxApi, id: string, fn: (found: Found) => Promise<T>): Promise<T> {
    const known = this.#made.get(id);
    if (!known || known.generation !== api.generation) return fn(await findNode(this.#ctx, api, id));
    try {
      return await fn(known);
    } catch (error) {
      this.#made.delete(id);
      if (!hasResult(error, VBOX_RESULT.ACCESS_DENIED) && !readFault(error)?.invalidObject) throw error;
      return fn(await findNode(this.#ctx, api, id));
    }
  }

  async stopNode(id: string, options: OperationOptions = {}): Promise<void> {
    throwIfAborted(options.signal, `stop of ${id}`);
    // Powering off a machine that is off already is nothing: retried after a lost websession.
    await this.#run(
      `stopping ${id}`,
      async (api) => {
        const { machine } = await findNode(this.#ctx, api, id);
        await powerOff(this.#conn, api, machine, powerOptions(this.#ctx, options.signal));
      },
      true,
      options.signal,
    );
  }

  async rebootNode(id: string, options: OperationOptions = {}): Promise<void> {
    throwIfAborted(options.signal, `reboot of ${id}`);
    await this.#run(`rebooting ${id}`, async (api) => {
      const { machine } = await findNode(this.#ctx, api, id);
      await withConsole(this.#ctx, api, machine, (c) => c.reset());
    });
  }

  async suspendNode(id: string, options: OperationOptions = {}): Promise<void> {
    throwIfAborted(options.signal, `suspend of ${id}`);
    await this.#run(`suspending ${id}`, async (api) => {
      const { machine } = await findNode(this.#ctx, api, id);
      await withConsole(this.#ctx, api, machine, (c) => c.pause());
    });
  }

  async resumeNode(id: string, options: OperationOptions = {}): Promise<void> {
    throwIfAborted(options.signal, `resume of ${id}`);
    await this.#run(`resuming ${id}`, async (api) => {
      const { machine } = await findNode(this.#ctx, api, id);
      await withConsole(this.#ctx, api, machine, (c) => c.resume());
    });
  }

  async destroyNode(id: string, options: OperationOptions = {}): Promise<void> {
    throwIfAborted(options.signal, `destroy of ${id}`);
    // Retried after a lost websession; a removal cut off half-way is finished by name.
    let attempt = 0;
    await this.#run(
      `destroying ${id}`,
      async (api) => {
        const again = attempt++ > 0;
        try {
          await this.#retryFresh(api, id, (found) => removeNode(this.#ctx, api, found, options.signal));
        } catch (error) {
          if (!VmkitError.is(error, 'NOT_FOUND')) throw error;
          if (again && this.#ownsName(id)) await sweepNodeLeftovers(this.#ctx, api, id);
        }
        this.#made.delete(id);
      },
      true,
      options.signal,
    );
  }

  /** A snapshot of the node, online (with its saved state) when it runs (see `docs/snapshots.md`). */
  /** A new master from a stopped node's disk, cloned to base, sealed on the copy (see `docs/images-from-nodes.md`). */
  async createMasterFromNode(
    id: string,
    request: NodeImageRequest,
    options: OperationOptions = {},
  ): Promise<MasterRef> {
    await this.init();
    this.#sources.clear();
    return createVboxMasterFromNode(this.#ctx, id, request, options);
  }

  async snapshotNode(
    id: string,
    request: SnapshotRequest,
    options: OperationOptions = {},
  ): Promise<NodeSnapshot> {
    throwIfAborted(options.signal, `snapshot of ${id}`);
    return this.#run(`taking snapshot ${request.name} of ${id}`, async (api) =>
      snapshotVboxNode(this.#ctx, api, id, await findNode(this.#ctx, api, id), request, options.signal),
    );
  }

  async listNodeSnapshots(id: string): Promise<readonly NodeSnapshot[]> {
    return this.#run(
      `listing snapshots of ${id}`,
      async (api) => listVboxNodeSnapshots(await findNode(this.#ctx, api, id)),
      true,
    );
  }

  async revertNode(id: string, name: string, options: OperationOptions = {}): Promise<void> {
    throwIfAborted(options.signal, `revert of ${id}`);
    await this.#run(`reverting ${id} to ${name}`, async (api) =>
      revertVboxNode(this.#ctx, api, id, await findNode(this.#ctx, api, id), name, options.signal),
    );
  }

  async deleteNodeSnapshot(id: string, name: string): Promise<void> {
    await this.#run(`deleting snapshot ${name} of ${id}`, async (api) =>
      deleteVboxNodeSnapshot(this.#ctx, api, id, await findNode(this.#ctx, api, id), name),
    );
  }

  /** Whether `id` names a node machine vmkit may make (its prefix, not a master). */
  #ownsName(id: string): boolean {
    const prefix = this.#options.namePrefix;
    return id.startsWith(prefix) && !id.startsWith(masterMachineName(prefix, ''));
  }

  async listNodes(): Promise<readonly ProviderNode[]> {
    return this.#run(
      'listing nodes',
      async (api) => {
        const nodes: ProviderNode[] = [];
        for (const r of await this.#records(api)) nodes.push(await describeMachine(r.name, r));
        return nodes;
      },
      true,
    );
  }

  /** Every node: machines with the prefix and vmkit's metadata (see {@link listNodeRecords}). */
  #records(api: VboxApi): Promise<NodeRecord[]> {
    return listNodeRecords(this.#ctx, api, this.#made);
  }

  async getNode(id: string): Promise<ProviderNode | undefined> {
    return this.#run(
      `reading node ${id}`,
      async (api) => {
        try {
          return await this.#retryFresh(api, id, (found) => describeMachine(id, found));
        } catch (error) {
          if (VmkitError.is(error, 'NOT_FOUND')) return undefined;
          throw error;
        }
      },
      true,
    );
  }

  /**
   * A Guest Control session for the running node `id` (see `docs/virtualbox.md`): `NOT_FOUND`
   * for an unknown node, `CONFLICT` when it is not running. The guest session is opened on first
   * use, as `access.credentials` (a user with a password: Guest Control logs in to the guest);
   * without Guest Additions running, calls fail `UNSUPPORTED` (retryable).
   */
  async guestAgent(id: string, access: GuestAgentAccess): Promise<GuestAgent> {
    throwIfAborted(access.signal, `opening the guest agent of ${id}`);
    const state = await this.#run(
      `reading node ${id}`,
      async (api) => String(await (await findNode(this.#ctx, api, id)).machine.getState()),
      true,
      access.signal,
    );
    if (state !== 'Running')
      throw new VmkitError('CONFLICT', `node ${id} is not running (${state}): no guest agent to reach`, {
        details: { node: id },
      });
    return new VboxGuestAgent(this.#ctx, id, access);
  }

  /** Logs off (releasing every reference); idempotent. */
  async close(): Promise<void> {
    await this.#life.close();
    this.#sources.clear();
    await this.#conn.close();
    await this.#ctx.bootIsos.close();
  }

  /** Same as {@link VirtualBoxProvider.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Creates a VirtualBox provider (connects lazily, on `init` or first use). */
export function virtualBoxProvider(options: VirtualBoxProviderOptions): VirtualBoxProvider {
  return new VirtualBoxProvider(options);
}
