import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import { AgentRunDirs } from '../guest/agent-run-dir.js';
import type { NodeCredentialSource, SshTransportFactory } from '../guest/guest-transport.js';
import type { BuildLeases } from '../masters/build-lease.js';
import type { MasterCache } from '../masters/master-cache.js';
import type { MasterRepository } from '../masters/master-repository.js';
import { noSuchImage } from '../masters/no-such-image.js';
import type { BoxSourceReader } from '../model/box-source-reader.js';
import type { CreateNodesOptions } from '../model/create-nodes-options.js';
import type {
  CopyDestination,
  CopyFromNodeOptions,
  CopyResult,
  CopySource,
  CopyToNodeOptions,
  NodeScript,
  NodeScriptResult,
  RunScriptOnNodesOptions,
  RunScriptOptions,
  ScriptResult,
  WaitForNodeOptions,
} from '../model/guest-exec.js';
import type { Hardware } from '../model/hardware.js';
import { DEFAULT_HARDWARE_PROFILES } from '../model/hardware.js';
import type { Image } from '../model/image.js';
import type { LoginCredentials } from '../model/login-credentials.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { CreateImageFromNodeOptions } from '../model/node-image.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { NodeSnapshot, SnapshotNodeOptions } from '../model/node-snapshot.js';
import type { Template, TemplateOptions } from '../model/template.js';
import type { PortAllocator } from '../ports/port-allocator.js';
import type { HypervisorProvider, ProviderNode } from '../spi/hypervisor-provider.js';
import type { MasterDiskExport } from '../spi/master-export.js';
import { checkInteger } from '../util/integer-option.js';
import { Lifecycle } from '../util/lifecycle.js';
import type { Logger } from '../util/logger.js';
import type { OperationOptions } from '../util/progress.js';
import { GROUP_PATTERN } from '../validation/patterns.js';
import { readBoxSpec } from './box-spec.js';
import type { ComputeService } from './compute-service.js';
import { type DiskUsageReport, diskUsage } from './disk-usage.js';
import { removeRunDirs } from './guest-access.js';
import {
  copyFromNode,
  copyToNode,
  type GuestOperationParts,
  runScriptOnNode,
  runScriptOnNodesMatching,
} from './guest-operations.js';
import type { HousekeepingParts } from './housekeeping-parts.js';
import { createImageFromNode } from './image-from-node.js';
import type { NodeLauncher } from './node-launcher.js';
import {
  destroyNodes,
  destroyOneNode,
  type NodeOperationParts,
  runPowerOperation,
} from './node-operations.js';
import { type NodeOwner, ownerTag } from './node-owner.js';
import { deleteNodeSnapshot, listNodeSnapshots, revertNode, snapshotNode } from './node-snapshots.js';
import { nodeMetadataOf } from './node-view.js';
import { checkUnusedFor, type PruneImagesOptions, type PruneResult, pruneImages } from './prune-images.js';
import {
  destroyOwnNodes,
  type ReapNodesOptions,
  type ReapParts,
  type ReapResult,
  reapNodes,
} from './reap-nodes.js';
import { removeImage } from './remove-image.js';
import { masterExporter, resolveTemplate } from './service-helpers.js';
import { checkSharedFolderHosts } from './shared-folders.js';
import { startComputeService } from './start-compute-service.js';
import { TemplateBuilder } from './template-builder.js';
import { waitForNode } from './wait-for-node.js';
import { checkWarmRequest, WarmStates } from './warm-clones.js';

/** How long closing spends removing the run directories the agent transport kept in nodes. */
const RUN_DIRS_CLOSE_MS = 10_000;

/** The parts a {@link VmkitComputeService} is composed of (bound in core's container). */
export interface ComputeServiceParts {
  readonly provider: HypervisorProvider;
  readonly repository: MasterRepository;
  readonly cache: MasterCache;
  /** Cross-process build leases in the store. */
  readonly leases: BuildLeases;
  /** With `shareMasters`: this host's adoption leases (set up at start with the build leases). */
  readonly adoptions?: BuildLeases | undefined;
  /** The owner lease of this service's ephemeral nodes. */
  readonly owner: NodeOwner;
  /** Whether `close()` destroys this service's ephemeral nodes. */
  readonly destroyOnClose: boolean;
  readonly launcher: NodeLauncher;
  /** Opens SSH to a node (absent: `transport: 'ssh'` is `UNSUPPORTED`). */
  readonly sshTransport?: SshTransportFactory;
  /** The logins vmkit stored for nodes. */
  readonly nodeCredentials?: NodeCredentialSource;
  readonly ports: PortAllocator;
  readonly logger: Logger;
  readonly images: readonly MasterSpec[];
  /** Reads `box` sources into `disk` ones when their specs are registered. */
  readonly boxReader?: BoxSourceReader | undefined;
  readonly clones: number;
}

/** The {@link ComputeService} implementation. Use `createComputeService` to make one. */
export class VmkitComputeService implements ComputeService {
  readonly #p: ComputeServiceParts;
  /** The run directories the guest agent transport keeps in nodes, removed on close. */
  readonly #runDirs = new AgentRunDirs();
  readonly #life = new Lifecycle('the compute service', { close: () => this.#release() });
  readonly #closer = new AbortController();
  readonly #running = new Set<Promise<unknown>>();
  readonly #launching = new Map<string, number>();
  readonly #deleting = new Set<string>();
  readonly #making = new Set<string>();
  readonly #warm: WarmStates;

  constructor(parts: ComputeServiceParts) {
    this.#p = parts;
    this.#warm = new WarmStates({
      provider: parts.provider,
      cache: parts.cache,
      logger: parts.logger,
      launch: async (group, template, master, o) => {
        const [node] = await parts.launcher.launch(group, 1, template, master, { ...o, warmTemplate: true });
        return node as NodeMetadata;
      },
      wait: async (id, until, timeoutMs, o) => {
        await waitForNode(this.#guestParts(), id, {
          until,
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          ...o,
          signal: o.signal ?? this.#closer.signal,
        });
      },
      destroy: (id, name) => parts.launcher.destroy(id, name),
    });
  }

  get sharesMasters(): boolean {
    return this.#p.adoptions !== undefined;
  }

  /**
   * Connects the provider, registers configured images, loads and verifies persisted masters.
   * On failure the provider is closed again and the error says which part failed. Emits `load`
   * progress events; a fired signal stops it with `ABORTED` (the provider closed again).
   */
  async init(options: OperationOptions = {}): Promise<void> {
    await startComputeService(this.#p, options);
  }

  async listImages(): Promise<Image[]> {
    this.#open();
    return this.#p.cache.list();
  }

  async getImage(id: string): Promise<Image | undefined> {
    this.#open();
    return this.#p.cache.image(id);
  }

  async ensureImage(idOrSpec: string | MasterSpec, options: OperationOptions = {}): Promise<Image> {
    this.#open();
    const id =
      typeof idOrSpec === 'string'
        ? idOrSpec
        : this.#p.cache.register(await readBoxSpec(idOrSpec, this.#p.boxReader, options.signal)).spec.id;
    await this.#p.cache.get(id, options);
    return this.#p.cache.image(id) as Image;
  }

  async deleteImage(id: string, options: { force?: boolean } = {}): Promise<void> {
    this.#open();
    const { cache } = this.#p;
    if (!cache.image(id))
      throw noSuchImage(
        id,
        cache.list().map((i) => i.id),
      );
    if (cache.building(id) || (this.#launching.get(id) ?? 0) > 0 || this.#deleting.has(id)) {
      throw new VmkitError(
        'CONFLICT',
        `image ${id} is being built, cloned or deleted; try again when that is done`,
        {
          details: { imageId: id },
        },
      );
    }
    // From here on, createNodesInGroup refuses this image until the deletion is over.
    this.#deleting.add(id);
    try {
      await removeImage(this.#p, id, options);
    } finally {
      this.#deleting.delete(id);
    }
  }

  async pruneImages(options: PruneImagesOptions = {}): Promise<PruneResult> {
    this.#open();
    checkUnusedFor(options);
    // Ephemeral nodes of dead owners first: the masters only they used can then go too.
    const reaped = await reapNodes(this.#reapParts(), options);
    const pruned = await pruneImages(this.#housekeeping(), options);
    return {
      ...pruned,
      removed: [
        ...reaped.removed.map((n) => ({ kind: 'node' as const, id: n.name, imageId: n.imageId })),
        ...pruned.removed,
      ],
      failed: [
        ...reaped.failed.map((f) => ({ kind: 'node' as const, id: f.name, error: f.error })),
        ...pruned.failed,
      ],
    };
  }

  async reapNodes(options: ReapNodesOptions = {}): Promise<ReapResult> {
    this.#open();
    return reapNodes(this.#reapParts(), options);
  }

  #reapParts(): ReapParts {
    return { ...this.#nodeParts(), owner: this.#p.owner };
  }

  async diskUsage(): Promise<DiskUsageReport> {
    this.#open();
    return diskUsage(this.#housekeeping());
  }

  #housekeeping(): HousekeepingParts {
    const { provider, cache, logger } = this.#p;
    return {
      provider,
      cache,
      logger,
      liveness: { repository: this.#p.repository, leases: this.#p.leases },
      isBusy: (id) => cache.building(id) || (this.#launching.get(id) ?? 0) > 0 || this.#deleting.has(id),
      deleteImage: (id) => this.deleteImage(id),
    };
  }

  async listHardwareProfiles(): Promise<Hardware[]> {
    this.#open();
    return [...((await this.#p.provider.hardwareProfiles?.()) ?? DEFAULT_HARDWARE_PROFILES)];
  }

  async listHostNetworks() {
    this.#open();
    return this.#p.provider.listHostNetworks();
  }

  templateBuilder(): TemplateBuilder {
    this.#open();
    return new TemplateBuilder(this);
  }

  async createNodesInGroup(
    group: string,
    count: number,
    templateOrOptions?: Template | TemplateOptions,
    options: CreateNodesOptions = {},
  ): Promise<NodeMetadata[]> {
    this.#open();
    if (options.warm !== undefined && typeof options.warm !== 'boolean')
      throw invalidArgument('warm', 'must be a boolean');
    if (typeof group !== 'string' || !GROUP_PATTERN.test(group)) {
      throw invalidArgument(
        'group',
        `must be 1-47 of a-z, 0-9 and -, starting with a letter (got ${JSON.stringify(group)})`,
      );
    }
    if (!Number.isInteger(count) || count < 1 || count > 1000) {
      throw invalidArgument('count', `must be an integer from 1 to 1000 (got ${count})`);
    }
    const template = await resolveTemplate(
      templateOrOptions,
      (id) => this.#p.cache.image(id),
      () => this.templateBuilder(),
    );
    const caps = await this.#p.provider.capabilities();
    this.#p.launcher.check(template, caps);
    const warmSpec = options.warm ? this.#p.cache.spec(template.image.id)?.warm : undefined;
    if (options.warm) checkWarmRequest(template, caps, this.#p.provider, warmSpec);
    await checkSharedFolderHosts(template.options.sharedFolders, this.#p.provider.host?.local !== false);
    await this.#p.launcher.checkAddresses(template, count);
    const imageId = template.image.id;
    return this.#using(imageId, options, async (signal) => {
      const master = await this.#p.cache.get(imageId, { ...options, signal });
      const image = this.#p.cache.image(imageId) ?? template.image;
      // An ephemeral node is marked with its owner, whose lease is taken before the node exists.
      const marked = template.options.ephemeral
        ? {
            ...template.options,
            tags: [...(template.options.tags ?? []), ownerTag(await this.#p.owner.id())],
          }
        : template.options;
      const { warm: _, ...work } = options;
      // A warm clone's identity comes from its drive (the template had one): a drive by default.
      const chosen = {
        ...template,
        image,
        options: warmSpec ? { ...marked, configDrive: marked.configDrive ?? true } : marked,
      };
      if (!warmSpec) return this.#p.launcher.launch(group, count, chosen, master, { ...work, signal });
      const state = await this.#warm.ensure(chosen, master, warmSpec, { ...work, signal });
      return this.#p.launcher.launch(group, count, chosen, master, {
        ...work,
        signal,
        warm: {
          record: state,
          ...(warmSpec.resumeScript !== undefined ? { resumeScript: warmSpec.resumeScript } : {}),
          onStale: (reason) => this.#warm.markStale(imageId, state, reason),
        },
      });
    });
  }

  async exportImageDisk(
    id: string,
    toPath: string,
    options: OperationOptions = {},
  ): Promise<MasterDiskExport> {
    this.#open();
    const { provider, cache } = this.#p;
    const exportDisk = masterExporter(provider);
    return this.#using(id, options, async (signal) => {
      const record = await cache.get(id, { ...options, signal });
      return exportDisk(record.master, toPath, { ...options, signal });
    });
  }

  /**
   * Runs work that uses an image's master: deleteImage refuses while it runs, and close() aborts
   * it and waits for its rollback.
   */
  async #using<T>(
    imageId: string,
    options: OperationOptions,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (this.#deleting.has(imageId)) {
      throw new VmkitError('CONFLICT', `image ${imageId} is being deleted`, { details: { imageId } });
    }
    this.#launching.set(imageId, (this.#launching.get(imageId) ?? 0) + 1);
    try {
      return await this.#tracked(options, fn);
    } finally {
      const left = (this.#launching.get(imageId) ?? 1) - 1;
      if (left > 0) this.#launching.set(imageId, left);
      else this.#launching.delete(imageId);
    }
  }

  async listNodes(): Promise<NodeMetadata[]> {
    this.#open();
    return (await this.#p.provider.listNodes()).map((n) => this.#view(n));
  }

  async getNode(id: string): Promise<NodeMetadata | undefined> {
    this.#open();
    return this.#nodeView(id);
  }

  /** The node `id` as the caller sees it, or `undefined` (no open check: used while closing). */
  async #nodeView(id: string): Promise<NodeMetadata | undefined> {
    const node = await this.#p.provider.getNode(id);
    return node ? this.#view(node) : undefined;
  }

  async readNodeConsole(id: string, options: { readonly tailBytes?: number } = {}): Promise<string> {
    this.#open();
    const { provider } = this.#p;
    if (!provider.readNodeConsole)
      throw new VmkitError(
        'UNSUPPORTED',
        `provider ${provider.name} keeps no console log (no readNodeConsole)`,
        {
          details: { provider: provider.name, method: 'readNodeConsole' },
        },
      );
    if (options.tailBytes !== undefined) checkInteger('tailBytes', options.tailBytes);
    if (!(await provider.getNode(id)))
      throw new VmkitError('NOT_FOUND', `no node ${id}`, { details: { node: id } });
    return provider.readNodeConsole(id, options);
  }

  async destroyNode(id: string, options: OperationOptions = {}): Promise<void> {
    this.#open();
    await destroyOneNode(this.#nodeParts(), id, options);
  }

  async destroyNodesMatching(
    predicate: (node: NodeMetadata) => boolean,
    options: OperationOptions = {},
  ): Promise<NodeMetadata[]> {
    const doomed = (await this.listNodes()).filter(predicate);
    return destroyNodes(this.#nodeParts(), doomed, options);
  }

  async startNode(id: string, options: OperationOptions = {}): Promise<void> {
    this.#open();
    await runPowerOperation(this.#p.provider, 'start', id, options);
  }

  async stopNode(id: string, options: OperationOptions = {}): Promise<void> {
    this.#open();
    await runPowerOperation(this.#p.provider, 'stop', id, options);
  }

  async rebootNode(id: string, options: OperationOptions = {}): Promise<void> {
    this.#open();
    await runPowerOperation(this.#p.provider, 'reboot', id, options);
  }

  async suspendNode(id: string, options: OperationOptions = {}): Promise<void> {
    this.#open();
    await runPowerOperation(this.#p.provider, 'suspend', id, options);
  }

  async resumeNode(id: string, options: OperationOptions = {}): Promise<void> {
    this.#open();
    await runPowerOperation(this.#p.provider, 'resume', id, options);
  }

  // --- node snapshots (docs/snapshots.md)

  async snapshotNode(id: string, name: string, options: SnapshotNodeOptions = {}): Promise<NodeSnapshot> {
    this.#open();
    return this.#tracked(options, (signal) =>
      snapshotNode(this.#p.provider, id, name, { ...options, signal }),
    );
  }

  async listNodeSnapshots(id: string): Promise<NodeSnapshot[]> {
    this.#open();
    return listNodeSnapshots(this.#p.provider, id);
  }

  async revertNode(id: string, name: string, options: OperationOptions = {}): Promise<void> {
    this.#open();
    return this.#tracked(options, (signal) => revertNode(this.#p.provider, id, name, { ...options, signal }));
  }

  async deleteNodeSnapshot(id: string, name: string): Promise<void> {
    this.#open();
    return this.#tracked({}, () => deleteNodeSnapshot(this.#p.provider, id, name));
  }

  // --- images made from nodes (docs/images-from-nodes.md)

  async createImageFromNode(id: string, options: CreateImageFromNodeOptions): Promise<Image> {
    this.#open();
    const { provider, cache, repository, logger } = this.#p;
    if (typeof options?.imageId === 'string' && this.#deleting.has(options.imageId))
      throw new VmkitError('CONFLICT', `image ${options.imageId} is being deleted`, {
        details: { imageId: options.imageId },
      });
    return this.#tracked(options ?? {}, (signal) =>
      createImageFromNode({ provider, cache, repository, logger, making: this.#making }, id, {
        ...options,
        signal,
      }),
    );
  }

  #nodeParts(): NodeOperationParts {
    const { provider, launcher, clones, cache, logger } = this.#p;
    return { provider, launcher, clones, cache, logger };
  }

  close(): Promise<void> {
    return this.#life.close();
  }

  /** Aborts what runs, lets it roll back through the still-open provider, then closes it. */
  async #release(): Promise<void> {
    this.#closer.abort(new VmkitError('ABORTED', 'the compute service is closing'));
    this.#p.cache.abortAll();
    await Promise.allSettled([...this.#running, ...this.#p.cache.running()]);
    this.#p.sshTransport?.close?.();
    await removeRunDirs(this.#guestParts(), (id) => this.#nodeView(id), RUN_DIRS_CLOSE_MS);
    await this.#closeOwner();
    await this.#p.provider.close?.();
  }

  /** Destroys this service's ephemeral nodes if asked, then gives up its owner lease. */
  async #closeOwner(): Promise<void> {
    const { logger, owner } = this.#p;
    if (this.#p.destroyOnClose) {
      const left = await destroyOwnNodes(this.#reapParts()).catch((error: unknown) => {
        logger.warn('could not destroy ephemeral nodes on close', { error: String(error) });
        return [];
      });
      if (left.length > 0)
        logger.warn('some ephemeral nodes were left; they are reaped later', { nodes: left });
    }
    await owner.release().catch((error: unknown) => {
      logger.warn('could not release the owner lease; it lapses on its own', { error: String(error) });
    });
  }

  // --- inside nodes: commands, files, readiness, stored logins (docs/inside-nodes.md)

  async runScriptOnNode(
    id: string,
    script: NodeScript,
    options: RunScriptOptions = {},
  ): Promise<ScriptResult> {
    this.#open();
    return this.#tracked(options, (signal) =>
      runScriptOnNode(this.#guestParts(), id, script, { ...options, signal }),
    );
  }

  async runScriptOnNodesMatching(
    predicate: (node: NodeMetadata) => boolean,
    script: NodeScript,
    options: RunScriptOnNodesOptions = {},
  ): Promise<NodeScriptResult[]> {
    this.#open();
    const nodes = (await this.listNodes()).filter(predicate);
    return this.#tracked(options, (signal) =>
      runScriptOnNodesMatching(this.#guestParts(), nodes, script, { ...options, signal }),
    );
  }

  async copyToNode(
    id: string,
    source: CopySource,
    guestPath: string,
    options: CopyToNodeOptions = {},
  ): Promise<CopyResult> {
    this.#open();
    return this.#tracked(options, (signal) =>
      copyToNode(this.#guestParts(), id, source, guestPath, { ...options, signal }),
    );
  }

  async copyFromNode(
    id: string,
    guestPath: string,
    destination: CopyDestination,
    options: CopyFromNodeOptions = {},
  ): Promise<CopyResult> {
    this.#open();
    return this.#tracked(options, (signal) =>
      copyFromNode(this.#guestParts(), id, guestPath, destination, { ...options, signal }),
    );
  }

  async waitForNode(id: string, options: WaitForNodeOptions): Promise<NodeMetadata> {
    this.#open();
    return this.#tracked(options, (signal) => waitForNode(this.#guestParts(), id, { ...options, signal }));
  }

  async getNodeCredentials(id: string): Promise<LoginCredentials | undefined> {
    this.#open();
    const node = await this.getNode(id);
    if (!node) throw new VmkitError('NOT_FOUND', `no node ${id}`, { details: { node: id } });
    return this.#p.nodeCredentials?.forNode(node);
  }

  /**
   * Runs work that close() aborts and waits for. It gets a signal of its own per call (never the
   * shared closer itself): waits add their listeners to it, so they cannot pile up on one signal
   * however many calls run.
   */
  async #tracked<T>(options: OperationOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = AbortSignal.any(
      options.signal ? [options.signal, this.#closer.signal] : [this.#closer.signal],
    );
    const work = fn(signal);
    this.#running.add(work);
    try {
      return await work;
    } finally {
      this.#running.delete(work);
    }
  }

  #guestParts(): GuestOperationParts {
    const { provider, sshTransport, nodeCredentials, logger } = this.#p;
    return {
      provider,
      sshTransport,
      nodeCredentials,
      runDirs: this.#runDirs,
      logger,
      getNode: (id) => this.getNode(id),
      background: (work) => {
        const tracked = work.catch(() => undefined).finally(() => this.#running.delete(tracked));
        this.#running.add(tracked);
      },
    };
  }

  /** Same as {@link VmkitComputeService.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #view(node: ProviderNode): NodeMetadata {
    return nodeMetadataOf(node, this.#p.cache.image(node.imageId));
  }

  #open(): void {
    this.#life.assertOpen();
  }
}
