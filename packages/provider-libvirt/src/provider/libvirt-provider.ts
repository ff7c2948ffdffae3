import {
  type CloneSpec,
  type HostNetwork,
  type HypervisorProvider,
  type MasterBuild,
  type MasterRef,
  type MasterSpec,
  type OperationOptions,
  type ProviderCapabilities,
  type ProviderNode,
  sleep,
  throwIfAborted,
  VmkitError,
} from '@vmkit/core';
import { DomainState } from '../client/domain-procedures.js';
import type { DomainHandle } from '../client/handles.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { LibvirtError, LibvirtErrorCode } from '../errors/libvirt-error.js';
import { cloneLibvirtNode } from './clone-node.js';
import { removeDomain } from './domain-removal.js';
import { chooseDomainType, readHostGuestSupport } from './host-capabilities.js';
import type { LibvirtContext, LibvirtMasterData } from './libvirt-context.js';
import {
  type LibvirtProviderOptions,
  type ResolvedLibvirtProviderOptions,
  resolveLibvirtProviderOptions,
} from './libvirt-provider-options.js';
import { planLibvirtMasterBuild } from './master-build.js';
import { readNodeMetadata, type StoredNodeMetadata } from './node-metadata.js';
import { nodeStatus } from './node-status.js';
import { PoolStorage } from './pool-storage.js';
import { parseXml } from './xml-text.js';

/** `VIR_DOMAIN_XML_INACTIVE`: the persistent definition, where vmkit's metadata lives. */
const XML_INACTIVE = 2;

/**
 * The libvirt provider: masters are volumes in a storage pool, nodes are domains whose disks are
 * qcow2 overlays over a master (or full copies), with a config drive volume and NAT port forwards
 * through QEMU user networking. Everything goes through {@link LibvirtClient}, so remote hosts
 * (`+tcp`, `+ssh`) work as local ones do. Node metadata lives in the domain's `<metadata>`, so
 * any process sees the same nodes.
 */
export class LibvirtProvider implements HypervisorProvider {
  readonly name = 'libvirt';
  readonly id: string;
  readonly #options: ResolvedLibvirtProviderOptions;
  #context: Promise<LibvirtContext> | undefined;
  #client: LibvirtClient | undefined;

  constructor(options: LibvirtProviderOptions) {
    this.#options = resolveLibvirtProviderOptions(options);
    this.id = `libvirt:${this.#options.uri}`;
  }

  /** The RPC client (connected by {@link LibvirtProvider.init}). */
  get client(): LibvirtClient | undefined {
    return this.#client;
  }

  async init(): Promise<void> {
    await this.#ctx();
  }

  /** Connects (once), reads capabilities, makes sure the pool exists. */
  #ctx(): Promise<LibvirtContext> {
    if (this.#context) return this.#context;
    const context: Promise<LibvirtContext> = this.#connect().catch((error: unknown) => {
      if (this.#context === context) this.#context = undefined;
      throw error;
    });
    this.#context = context;
    return context;
  }

  async #connect(): Promise<LibvirtContext> {
    const client = await LibvirtClient.connect({
      uri: this.#options.uri,
      ...(this.#options.sshBinary ? { sshBinary: this.#options.sshBinary } : {}),
    });
    this.#client = client;
    try {
      const support = readHostGuestSupport(await client.getCapabilities());
      const domainType = chooseDomainType(support, this.#options.domainType);
      const storage = new PoolStorage(client, this.#options.pool, this.#options.poolPath);
      await storage.pool();
      const real = domainType !== 'test';
      return {
        client,
        storage,
        options: this.#options,
        domainType,
        arch: support.arch,
        qemuCommandLine: domainType === 'qemu' || domainType === 'kvm',
        realGuests: real,
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
    };
  }

  async listHostNetworks(): Promise<readonly HostNetwork[]> {
    const { client } = await this.#ctx();
    const nets = await client.networks.listAll();
    const out: HostNetwork[] = [];
    for (const net of nets) {
      const doc = parseXml(await client.networks.getXmlDesc(net)) as {
        network?: {
          forward?: { '@mode'?: string } | string;
          ip?: { '@address'?: string; '@prefix'?: string; '@netmask'?: string };
        };
      };
      const fwd = doc.network?.forward;
      const mode = typeof fwd === 'object' ? (fwd['@mode'] ?? 'nat') : fwd === undefined ? undefined : 'nat';
      const ip = doc.network?.ip?.['@address'];
      const kind: HostNetwork['kind'] =
        mode === 'nat' || mode === 'route'
          ? 'nat'
          : mode === 'bridge'
            ? 'bridge'
            : ip
              ? 'hostOnly'
              : 'internal';
      out.push({
        name: net.name,
        kind,
        up: await client.networks.isActive(net),
        ...(ip ? { addresses: [ip] } : {}),
      });
    }
    return out;
  }

  planMasterBuild(spec: MasterSpec, masterName: string): MasterBuild {
    return planLibvirtMasterBuild(() => this.#ctx(), spec, masterName);
  }

  async mastersExist(refs: readonly MasterRef[]): Promise<boolean[]> {
    const ctx = await this.#ctx();
    return Promise.all(
      refs.map(async (ref) => {
        const data = ref.data as Partial<LibvirtMasterData> | undefined;
        const names = data?.volumes ?? [ref.id];
        for (const name of names) if (!(await ctx.storage.find(name))) return false;
        return true;
      }),
    );
  }

  async deleteMaster(ref: MasterRef): Promise<void> {
    const ctx = await this.#ctx();
    const data = ref.data as Partial<LibvirtMasterData> | undefined;
    for (const name of data?.volumes ?? [ref.id]) await ctx.storage.delete(name);
  }

  async cloneNode(spec: CloneSpec, options: OperationOptions = {}): Promise<ProviderNode> {
    const ctx = await this.#ctx();
    const { dom, meta } = await cloneLibvirtNode(ctx, spec, options);
    return this.#describe(ctx, dom, meta);
  }

  async startNode(id: string, options: OperationOptions = {}): Promise<void> {
    const ctx = await this.#ctx();
    throwIfAborted(options.signal, `start of ${id}`);
    const dom = await this.#lookup(ctx, id);
    if (await ctx.client.domains.isActive(dom)) return;
    await ctx.client.domains.create(dom);
  }

  async stopNode(id: string, options: OperationOptions = {}): Promise<void> {
    const ctx = await this.#ctx();
    const dom = await this.#lookup(ctx, id);
    if (!(await ctx.client.domains.isActive(dom))) return;
    const { state } = await ctx.client.domains.getState(dom);
    if (state === DomainState.RUNNING) {
      await ctx.client.domains.shutdown(dom).catch(() => {});
      const deadline = Date.now() + ctx.options.stopGraceMs;
      while (Date.now() < deadline) {
        if (!(await ctx.client.domains.isActive(dom))) return;
        await sleep(200, options.signal);
      }
    }
    await ctx.client.domains.destroy(dom).catch((error: unknown) => {
      if (!LibvirtError.hasCode(error, LibvirtErrorCode.OPERATION_INVALID)) throw error;
    });
  }

  async rebootNode(id: string): Promise<void> {
    const ctx = await this.#ctx();
    await ctx.client.domains.reboot(await this.#lookup(ctx, id));
  }

  async suspendNode(id: string): Promise<void> {
    const ctx = await this.#ctx();
    await ctx.client.domains.suspend(await this.#lookup(ctx, id));
  }

  async resumeNode(id: string): Promise<void> {
    const ctx = await this.#ctx();
    await ctx.client.domains.resume(await this.#lookup(ctx, id));
  }

  async destroyNode(id: string): Promise<void> {
    const ctx = await this.#ctx();
    let found: { dom: DomainHandle; meta: StoredNodeMetadata };
    try {
      found = await this.#lookupNode(ctx, id);
    } catch (error) {
      if (VmkitError.is(error, 'NOT_FOUND')) return;
      throw error;
    }
    await removeDomain(ctx, found.dom.name, found.meta.volumes);
  }

  async listNodes(): Promise<readonly ProviderNode[]> {
    const ctx = await this.#ctx();
    const doms = await ctx.client.domains.listAll();
    const nodes: ProviderNode[] = [];
    for (const dom of doms) {
      if (!dom.name.startsWith(ctx.options.namePrefix)) continue;
      try {
        const meta = readNodeMetadata(await ctx.client.domains.getXmlDesc(dom, XML_INACTIVE));
        if (meta?.kind === 'node') nodes.push(await this.#describe(ctx, dom, meta));
      } catch (error) {
        if (!VmkitError.is(error, 'NOT_FOUND')) throw error;
      }
    }
    return nodes;
  }

  async getNode(id: string): Promise<ProviderNode | undefined> {
    const ctx = await this.#ctx();
    try {
      const { dom, meta } = await this.#lookupNode(ctx, id);
      return await this.#describe(ctx, dom, meta);
    } catch (error) {
      if (VmkitError.is(error, 'NOT_FOUND')) return undefined;
      throw error;
    }
  }

  /** Closes the connection; one still being made (init in progress) is closed once it is made. */
  async close(): Promise<void> {
    const client = this.#client;
    const pending = this.#context;
    this.#client = undefined;
    this.#context = undefined;
    await client?.close();
    const ctx = await pending?.catch(() => undefined);
    if (ctx) {
      if (this.#client === ctx.client) this.#client = undefined;
      await ctx.client.close();
    }
  }

  /** Same as {@link LibvirtProvider.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * A node's domain and metadata. Only domains carrying vmkit's metadata of kind `node` are
   * nodes: a foreign domain that merely has the prefix, or one of our build domains (installer,
   * post-install boot), is `NOT_FOUND` to every node operation.
   */
  async #lookup(ctx: LibvirtContext, id: string): Promise<DomainHandle> {
    return (await this.#lookupNode(ctx, id)).dom;
  }

  async #lookupNode(
    ctx: LibvirtContext,
    id: string,
  ): Promise<{ dom: DomainHandle; meta: StoredNodeMetadata }> {
    const missing = (cause?: unknown) =>
      new VmkitError('NOT_FOUND', `no libvirt node ${id}`, cause === undefined ? {} : { cause });
    if (!id.startsWith(ctx.options.namePrefix)) throw missing();
    try {
      const dom = await ctx.client.domains.lookupByName(id);
      const meta = readNodeMetadata(await ctx.client.domains.getXmlDesc(dom, XML_INACTIVE));
      if (meta?.kind !== 'node') throw missing();
      return { dom, meta };
    } catch (error) {
      if (VmkitError.is(error, 'NOT_FOUND')) throw missing(error);
      throw error;
    }
  }

  async #describe(ctx: LibvirtContext, dom: DomainHandle, meta: StoredNodeMetadata): Promise<ProviderNode> {
    const { state } = await ctx.client.domains.getState(dom);
    const forwards = meta.network.nics.flatMap((n) => n.portForwards.map((f) => f.hostIp));
    return {
      id: dom.name,
      name: meta.name,
      group: meta.group,
      imageId: meta.imageId,
      status: nodeStatus(state),
      hardware: meta.hardware,
      network: meta.network,
      publicAddresses: [...new Set(forwards)],
      privateAddresses: meta.network.nics.some((n) => n.attachment === 'nat') ? ['10.0.2.15'] : [],
      tags: meta.tags,
      userMetadata: meta.userMetadata,
      linkedClone: meta.linkedClone,
      createdAt: meta.createdAt,
    };
  }
}

/** Creates a libvirt provider (connects lazily, on `init` or first use). */
export function libvirtProvider(options: LibvirtProviderOptions): LibvirtProvider {
  return new LibvirtProvider(options);
}
