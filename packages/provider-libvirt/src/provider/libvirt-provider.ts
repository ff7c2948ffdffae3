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
  SavedWarmState,
  SnapshotRequest,
  WarmCloneResult,
  WarmStateRef,
} from '@vmkit/core/spi';
import {
  type CloneSpec,
  type DiskBytes,
  Lifecycle,
  type MasterBuild,
  type MasterDiskExport,
  type MasterDiskExportOptions,
  type MasterRef,
  mapLimit,
  type NodeConsoleOptions,
  type ProviderArtefact,
  type ProviderHost,
  type ProviderNode,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core/spi';
import { type ProviderBootIsoCache, providerBootIsoCache } from '@vmkit/imaging';
import { LibvirtClient } from '../client/libvirt-client.js';
import { openLibvirtGuestAgent } from './guest/open-guest-agent.js';
import { chooseDomainType, readHostGuestSupport } from './host/host-capabilities.js';
import { type LibvirtIdentity, legacyLibvirtId, readLibvirtIdentity } from './host/host-identity.js';
import { listLibvirtHostNetworks } from './host/host-network-list.js';
import { PoolStorage } from './host/pool-storage.js';
import type { LibvirtContext } from './libvirt-context.js';
import {
  type LibvirtProviderOptions,
  type ResolvedLibvirtProviderOptions,
  resolveLibvirtProviderOptions,
} from './libvirt-provider-options.js';
import {
  listBuildArtefacts,
  masterVolumes,
  nodeVolumes,
  removeBuildArtefact,
  volumesDiskBytes,
} from './master/build-artefacts.js';
import { planLibvirtMasterBuild } from './master/master-build.js';
import { exportLibvirtMaster } from './master/master-export.js';
import { importLibvirtMaster } from './master/master-import.js';
import { checkLibvirtMasterRef } from './master/master-ref-check.js';
import { libvirtMastersExist } from './master/masters-exist.js';
import { cloneLibvirtNode } from './node/clone-node.js';
import { readLibvirtNodeConsole } from './node/node-console.js';
import { createLibvirtMasterFromNode, LIBVIRT_NODE_IMAGE_CAPABILITIES } from './node/node-image.js';
import { lookupNode, XML_INACTIVE } from './node/node-lookup.js';
import { readNodeMetadata } from './node/node-metadata.js';
import { destroyLibvirtNode, powerLibvirtNode } from './node/node-power.js';
import {
  deleteLibvirtNodeSnapshot,
  LIBVIRT_SNAPSHOT_CAPABILITIES,
  listLibvirtNodeSnapshots,
  revertLibvirtNode,
  snapshotLibvirtNode,
} from './node/node-snapshots.js';
import { describeNode } from './node/node-view.js';
import { cloneLibvirtNodeFromState } from './warm/clone-from-state.js';
import { saveLibvirtWarmState } from './warm/save-warm-state.js';
import { deleteLibvirtWarmState, deleteWarmVolumes } from './warm/warm-cleanup.js';

/** How many nodes {@link LibvirtProvider.listNodes} describes at once. */
const LIST_CONCURRENCY = 8;

/**
 * The libvirt provider: masters are volumes in a storage pool, nodes are domains whose disks are
 * qcow2 overlays over a master (or full copies), with a config drive volume and NAT port forwards
 * through QEMU user networking. Everything goes through {@link LibvirtClient}, so remote hosts
 * (`+tcp`, `+ssh`) work as local ones do. Node metadata lives in the domain's `<metadata>`, so
 * any process sees the same nodes.
 */
export class LibvirtProvider implements HypervisorProvider {
  readonly name = 'libvirt';
  readonly previousIds: readonly string[];
  #identity: LibvirtIdentity | undefined;
  readonly #options: ResolvedLibvirtProviderOptions;
  readonly #life: Lifecycle<LibvirtContext>;
  #client: LibvirtClient | undefined;
  readonly #bootIsos: ProviderBootIsoCache;

  constructor(options: LibvirtProviderOptions) {
    this.#options = resolveLibvirtProviderOptions(options);
    this.#bootIsos = providerBootIsoCache(options.bootIsoCache);
    this.previousIds = [legacyLibvirtId(this.#options.uri)];
    this.#life = new Lifecycle(`the libvirt provider for ${this.#options.uri}`, {
      open: (signal) => this.#connect(signal),
      close: async (ctx) => {
        if (this.#client === ctx?.client) this.#client = undefined;
        await ctx?.client.close();
      },
    });
  }

  /**
   * `libvirt:<host uuid>:<driver URI>` once connected (see `docs/remote-hosts.md`); before that,
   * the URI-only id of earlier versions.
   */
  get id(): string {
    return this.#identity?.id ?? (this.previousIds[0] as string);
  }

  /** The host behind the connection (known once connected; until then, assumed local). */
  get host(): ProviderHost | undefined {
    return this.#identity?.host;
  }

  /** The RPC client (connected by {@link LibvirtProvider.init}). */
  get client(): LibvirtClient | undefined {
    return this.#client;
  }

  async init(): Promise<void> {
    await this.#ctx();
  }

  /** Connects (once; a failed attempt is tried again), reads capabilities, makes sure the pool exists. */
  #ctx(): Promise<LibvirtContext> {
    return this.#life.open();
  }

  async #connect(signal: AbortSignal): Promise<LibvirtContext> {
    const client = await LibvirtClient.connect({
      uri: this.#options.uri,
      ...(this.#options.sshBinary ? { sshBinary: this.#options.sshBinary } : {}),
      ...(this.#options.tls ? { tls: this.#options.tls } : {}),
      allowUriPrograms: this.#options.allowUriPrograms,
      reconnect: this.#options.reconnect,
    });
    this.#client = client;
    try {
      throwIfAborted(signal, 'connecting');
      const caps = await client.getCapabilities();
      const support = readHostGuestSupport(caps);
      this.#identity = await readLibvirtIdentity(client, caps, this.#options.hostId);
      const domainType = chooseDomainType(support, this.#options.domainType);
      const storage = new PoolStorage(client, this.#options.pool, this.#options.poolPath);
      await storage.pool();
      throwIfAborted(signal, 'connecting');
      const real = domainType !== 'test';
      return {
        client,
        storage,
        options: this.#options,
        domainType,
        arch: support.arch,
        qemuCommandLine: domainType === 'qemu' || domainType === 'kvm',
        realGuests: real,
        bootIsos: this.#bootIsos,
      };
    } catch (error) {
      if (this.#client === client) this.#client = undefined;
      await client.close();
      throw error;
    }
  }

  async capabilities(): Promise<ProviderCapabilities> {
    const ctx = await this.#ctx();
    return {
      linkedClones: true,
      attachments: ['nat', 'bridged', 'hostOnly', 'internal'],
      portForwarding: ctx.qemuCommandLine,
      configDriveFormats: ['nocloud', 'openstack', 'ovf'],
      sources: ['disk', 'kernel', 'iso', 'bootIso'],
      suspend: true,
      dataVolumes: true,
      guestAgent: ctx.realGuests,
      // QEMU's internal snapshots; the test driver's are metadata only, so not offered.
      ...(ctx.realGuests ? { snapshots: LIBVIRT_SNAPSHOT_CAPABILITIES } : {}),
      // A sealed copy boots once: the test driver runs no guest.
      ...(ctx.realGuests ? { imageFromNode: LIBVIRT_NODE_IMAGE_CAPABILITIES } : {}),
      // UEFI through OVMF needs a guest that runs (libvirt's test driver has no firmware).
      firmware: ctx.realGuests ? ['bios', 'efi'] : ['bios'],
      // virtiofs, with the virtiofsd that libvirt finds (QEMU's vhost-user descriptors).
      ...(ctx.realGuests ? { sharedFolders: 'virtiofs' as const } : {}),
      // Save images are read and written as files of the pool: the daemon must be on this host.
      ...(ctx.realGuests && this.host?.local !== false ? { warmClones: true } : {}),
    };
  }

  async listHostNetworks(): Promise<readonly HostNetwork[]> {
    return listLibvirtHostNetworks((await this.#ctx()).client);
  }

  planMasterBuild(spec: MasterSpec, masterName: string): MasterBuild {
    return planLibvirtMasterBuild(() => this.#ctx(), spec, masterName);
  }

  /**
   * Checks a stored master reference against what this provider makes: the master volume named
   * from a master name and the prefix, the configured pool, exactly the volumes that name gives,
   * boot-file paths equal to the spec's source (refused without a spec), enums and numbers as a
   * build writes them. `CORRUPT` naming the field otherwise.
   */
  checkMasterRef(ref: MasterRef, spec: MasterSpec | undefined): void {
    checkLibvirtMasterRef(this.#options, ref, spec);
  }

  async mastersExist(refs: readonly MasterRef[]): Promise<boolean[]> {
    return libvirtMastersExist(await this.#ctx(), refs);
  }

  async deleteMaster(ref: MasterRef): Promise<void> {
    const ctx = await this.#ctx();
    // Defence in depth: core checked the record, but only a reference naming vmkit's own volumes is acted on.
    const data = checkLibvirtMasterRef(ctx.options, ref, undefined, { refOnly: true });
    for (const name of data.volumes) await ctx.storage.delete(name);
    await deleteWarmVolumes(ctx, data.volume);
  }

  /** A master's root disk, downloaded (compressed on request); bootIso masters: `UNSUPPORTED`. */
  async exportMasterDisk(ref: MasterRef, to: string, o?: MasterDiskExportOptions): Promise<MasterDiskExport> {
    return exportLibvirtMaster(await this.#ctx(), ref, to, o);
  }

  /** Adopts a shared master's disk: inspected, then uploaded into the pool. */
  readonly importMasterDisk: NonNullable<HypervisorProvider['importMasterDisk']> = async (n, f, d, o) =>
    importLibvirtMaster(await this.#ctx(), n, f, d, o);

  /** Build domains and volumes of master builds (see `docs/housekeeping.md`). */
  async listArtefacts(): Promise<readonly ProviderArtefact[]> {
    return listBuildArtefacts(await this.#ctx());
  }

  async removeArtefact(artefact: ProviderArtefact): Promise<void> {
    return removeBuildArtefact(await this.#ctx(), artefact);
  }

  async masterDiskUsage(refs: readonly MasterRef[]): Promise<Array<DiskBytes | undefined>> {
    const ctx = await this.#ctx();
    return Promise.all(
      refs.map((ref) => {
        const volumes = masterVolumes(ctx.options, ref);
        return volumes ? volumesDiskBytes(ctx, volumes) : undefined;
      }),
    );
  }

  async nodeDiskUsage(ids: readonly string[]): Promise<Array<DiskBytes | undefined>> {
    const ctx = await this.#ctx();
    return Promise.all(ids.map(async (id) => volumesDiskBytes(ctx, (await nodeVolumes(ctx, id)) ?? [])));
  }

  async cloneNode(spec: CloneSpec, options: OperationOptions = {}): Promise<ProviderNode> {
    const ctx = await this.#ctx();
    const { dom, meta } = await cloneLibvirtNode(ctx, spec, options);
    return describeNode(ctx, dom, meta);
  }

  /** Saves a running template node as a warm state (see `docs/warm-clones.md`). */
  async saveWarmState(
    id: string,
    master: MasterRef,
    options: OperationOptions = {},
  ): Promise<SavedWarmState> {
    return saveLibvirtWarmState(await this.#ctx(), id, master, options);
  }

  /** A node resumed from a warm state, or booted cold when the state cannot be used. */
  async cloneNodeFromState(
    spec: CloneSpec,
    state: WarmStateRef,
    options: OperationOptions = {},
  ): Promise<WarmCloneResult> {
    return cloneLibvirtNodeFromState(await this.#ctx(), spec, state, options);
  }

  async deleteWarmState(state: WarmStateRef): Promise<void> {
    return deleteLibvirtWarmState(await this.#ctx(), state);
  }

  async startNode(id: string, options: OperationOptions = {}): Promise<void> {
    await powerLibvirtNode(await this.#ctx(), 'start', id, options);
  }

  async stopNode(id: string, options: OperationOptions = {}): Promise<void> {
    await powerLibvirtNode(await this.#ctx(), 'stop', id, options);
  }

  async rebootNode(id: string, options: OperationOptions = {}): Promise<void> {
    await powerLibvirtNode(await this.#ctx(), 'reboot', id, options);
  }

  async suspendNode(id: string, options: OperationOptions = {}): Promise<void> {
    await powerLibvirtNode(await this.#ctx(), 'suspend', id, options);
  }

  async resumeNode(id: string, options: OperationOptions = {}): Promise<void> {
    await powerLibvirtNode(await this.#ctx(), 'resume', id, options);
  }

  async destroyNode(id: string, options: OperationOptions = {}): Promise<void> {
    await destroyLibvirtNode(await this.#ctx(), id, options);
  }

  /** An internal snapshot of the node's overlay (with memory when running; see `docs/snapshots.md`). */
  async snapshotNode(
    id: string,
    request: SnapshotRequest,
    options?: OperationOptions,
  ): Promise<NodeSnapshot> {
    return snapshotLibvirtNode(await this.#ctx(), id, request, options);
  }

  /**
   * A new master from a node's disk, flattened (a running node's by a block copy ended under an
   * agent freeze), sealed on the copy (see `docs/images-from-nodes.md`).
   */
  async createMasterFromNode(
    id: string,
    request: NodeImageRequest,
    options?: OperationOptions,
  ): Promise<MasterRef> {
    return createLibvirtMasterFromNode(await this.#ctx(), id, request, options);
  }

  async listNodeSnapshots(id: string): Promise<readonly NodeSnapshot[]> {
    return listLibvirtNodeSnapshots(await this.#ctx(), id);
  }

  async revertNode(id: string, name: string, options?: OperationOptions): Promise<void> {
    await revertLibvirtNode(await this.#ctx(), id, name, options);
  }

  async deleteNodeSnapshot(id: string, name: string): Promise<void> {
    await deleteLibvirtNodeSnapshot(await this.#ctx(), id, name);
  }

  /**
   * Every node, described eight at a time (each asks its guest agent for
   * addresses, bounded by a short timeout, so many nodes or a hung agent keep the list fast).
   */
  async listNodes(): Promise<readonly ProviderNode[]> {
    const ctx = await this.#ctx();
    const doms = (await ctx.client.domains.listAll()).filter((d) =>
      d.name.startsWith(ctx.options.namePrefix),
    );
    const nodes = await mapLimit(doms, LIST_CONCURRENCY, async (dom) => {
      try {
        const meta = readNodeMetadata(await ctx.client.domains.getXmlDesc(dom, XML_INACTIVE));
        return meta?.kind === 'node' ? await describeNode(ctx, dom, meta) : undefined;
      } catch (error) {
        // Removed meanwhile.
        if (VmkitError.is(error, 'NOT_FOUND')) return undefined;
        throw error;
      }
    });
    return nodes.filter((n): n is ProviderNode => n !== undefined);
  }

  /** The end of a node's serial console, kept in the pool by virtlogd while the console stays a pty. */
  async readNodeConsole(id: string, options: NodeConsoleOptions = {}): Promise<string> {
    return readLibvirtNodeConsole(await this.#ctx(), id, options.tailBytes);
  }

  async getNode(id: string): Promise<ProviderNode | undefined> {
    const ctx = await this.#ctx();
    try {
      const { dom, meta } = await lookupNode(ctx, id);
      return await describeNode(ctx, dom, meta);
    } catch (error) {
      if (VmkitError.is(error, 'NOT_FOUND')) return undefined;
      throw error;
    }
  }

  /**
   * The QEMU guest agent of a running node, through libvirt's QEMU program over the domain's
   * `org.qemu.guest_agent.0` channel: `NOT_FOUND` for an unknown node, `CONFLICT` when it is not running.
   */
  async guestAgent(id: string, access: GuestAgentAccess = {}): Promise<GuestAgent> {
    return openLibvirtGuestAgent(await this.#ctx(), id, access);
  }

  /**
   * Closes the connection; one still being made (init in progress) is closed once it is made.
   * Later calls fail with the closed error (`CONFLICT`, reason `closed`).
   */
  async close(): Promise<void> {
    await this.#life.close();
    await this.#bootIsos.close();
  }

  /** Same as {@link LibvirtProvider.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Creates a libvirt provider (connects lazily, on `init` or first use). */
export function libvirtProvider(options: LibvirtProviderOptions): LibvirtProvider {
  return new LibvirtProvider(options);
}
