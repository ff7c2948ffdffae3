import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import type { MasterCache } from '../masters/master-cache.js';
import type { MasterRepository } from '../masters/master-repository.js';
import type { Hardware } from '../model/hardware.js';
import { DEFAULT_HARDWARE_PROFILES } from '../model/hardware.js';
import type { Image } from '../model/image.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { NodeMetadata } from '../model/node-metadata.js';
import type { Template, TemplateOptions } from '../model/template.js';
import type { PortAllocator } from '../ports/port-allocator.js';
import type { HypervisorProvider, ProviderNode } from '../spi/hypervisor-provider.js';
import { mapSettled } from '../util/concurrency.js';
import type { Logger } from '../util/logger.js';
import type { OperationOptions } from '../util/progress.js';
import { parseOrThrow } from '../validation/parse.js';
import { GROUP_PATTERN, templateOptionsSchema } from '../validation/template-options-schema.js';
import type { ComputeService } from './compute-service.js';
import type { NodeLauncher } from './node-launcher.js';
import { leaseOwner, nodeMetadataOf } from './node-view.js';
import { TemplateBuilder } from './template-builder.js';

/** The parts a {@link VmkitComputeService} is composed of (bound in core's container). */
export interface ComputeServiceParts {
  readonly provider: HypervisorProvider;
  readonly repository: MasterRepository;
  readonly cache: MasterCache;
  readonly launcher: NodeLauncher;
  readonly ports: PortAllocator;
  readonly logger: Logger;
  readonly images: readonly MasterSpec[];
  readonly clones: number;
}

/** The {@link ComputeService} implementation. Use `createComputeService` to make one. */
export class VmkitComputeService implements ComputeService {
  readonly #p: ComputeServiceParts;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(parts: ComputeServiceParts) {
    this.#p = parts;
  }

  /** Connects the provider, registers configured images, loads and verifies persisted masters. */
  async init(): Promise<void> {
    const { provider, repository, cache, images, logger, ports } = this.#p;
    await provider.init?.();
    for (const [i, spec] of images.entries()) {
      try {
        cache.register(spec);
      } catch (error) {
        if (VmkitError.is(error, 'INVALID_ARGUMENT')) {
          throw invalidArgument(`images[${i}]`, error.message, { cause: error });
        }
        throw error;
      }
    }
    await repository.init();
    const quarantined = await cache.load();
    if (quarantined.length > 0)
      logger.warn('some master metadata was quarantined', { count: quarantined.length });
    const live = new Set((await provider.listNodes()).map((n) => leaseOwner(provider.id, n.name)));
    const released = await ports.reconcile(`${provider.id}/`, live);
    if (released > 0) logger.info('released port leases of nodes that are gone', { released });
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
    const id = typeof idOrSpec === 'string' ? idOrSpec : this.#p.cache.register(idOrSpec).spec.id;
    await this.#p.cache.get(id, options);
    return this.#p.cache.image(id) as Image;
  }

  async deleteImage(id: string, options: { force?: boolean } = {}): Promise<void> {
    this.#open();
    const { cache, provider, repository, launcher, images } = this.#p;
    if (!cache.image(id)) throw new VmkitError('NOT_FOUND', `no image ${id}`, { details: { imageId: id } });
    if (cache.building(id))
      throw new VmkitError('CONFLICT', `image ${id} is being built`, { details: { imageId: id } });
    const users = (await provider.listNodes()).filter((n) => n.imageId === id);
    if (users.length > 0 && !options.force) {
      throw new VmkitError(
        'CONFLICT',
        `image ${id} is used by ${users.length} node(s): ${users.map((n) => n.name).join(', ')}`,
        {
          details: { imageId: id, nodes: users.map((n) => n.id) },
        },
      );
    }
    await mapSettled(users, this.#p.clones, (n) => launcher.destroy(n.id, n.name));
    const record = cache.record(id);
    if (record) await provider.deleteMaster(record.master);
    await repository.remove(id);
    cache.forget(
      id,
      images.some((s) => s.id === id),
    );
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
    options: OperationOptions = {},
  ): Promise<NodeMetadata[]> {
    this.#open();
    if (typeof group !== 'string' || !GROUP_PATTERN.test(group)) {
      throw invalidArgument(
        'group',
        `must be 1-47 of a-z, 0-9 and -, starting with a letter (got ${JSON.stringify(group)})`,
      );
    }
    if (!Number.isInteger(count) || count < 1 || count > 1000) {
      throw invalidArgument('count', `must be an integer from 1 to 1000 (got ${count})`);
    }
    const template = await this.#template(templateOrOptions);
    const caps = await this.#p.provider.capabilities();
    this.#p.launcher.check(template, caps);
    const master = await this.#p.cache.get(template.image.id, options);
    const image = this.#p.cache.image(template.image.id) ?? template.image;
    return this.#p.launcher.launch(group, count, { ...template, image }, master, options);
  }

  async listNodes(): Promise<NodeMetadata[]> {
    this.#open();
    return (await this.#p.provider.listNodes()).map((n) => this.#view(n));
  }

  async getNode(id: string): Promise<NodeMetadata | undefined> {
    this.#open();
    const node = await this.#p.provider.getNode(id);
    return node ? this.#view(node) : undefined;
  }

  async destroyNode(id: string): Promise<void> {
    this.#open();
    const node = await this.#p.provider.getNode(id);
    if (!node) throw new VmkitError('NOT_FOUND', `no node ${id}`, { details: { node: id } });
    await this.#p.launcher.destroy(node.id, node.name);
  }

  async destroyNodesMatching(predicate: (node: NodeMetadata) => boolean): Promise<NodeMetadata[]> {
    const doomed = (await this.listNodes()).filter(predicate);
    const settled = await mapSettled(doomed, this.#p.clones, (n) => this.#p.launcher.destroy(n.id, n.name));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return doomed;
  }

  async startNode(id: string): Promise<void> {
    this.#open();
    await this.#p.provider.startNode(id);
  }

  async stopNode(id: string): Promise<void> {
    this.#open();
    await this.#p.provider.stopNode(id);
  }

  async rebootNode(id: string): Promise<void> {
    this.#open();
    await this.#p.provider.rebootNode(id);
  }

  async suspendNode(id: string): Promise<void> {
    this.#open();
    await this.#p.provider.suspendNode(id);
  }

  async resumeNode(id: string): Promise<void> {
    this.#open();
    await this.#p.provider.resumeNode(id);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      this.#p.cache.abortAll();
      await this.#p.provider.close?.();
    })();
    return this.#closing;
  }

  /** Same as {@link VmkitComputeService.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #template(input: Template | TemplateOptions | undefined): Promise<Template> {
    if (input && 'image' in input && 'hardware' in input) {
      return {
        ...input,
        options: parseOrThrow(templateOptionsSchema, input.options ?? {}, 'template.options'),
      };
    }
    const builder = this.templateBuilder();
    if (input) builder.options(input as TemplateOptions);
    return builder.build();
  }

  #view(node: ProviderNode): NodeMetadata {
    return nodeMetadataOf(node, this.#p.cache.image(node.imageId));
  }

  #open(): void {
    if (this.#closed) throw new VmkitError('CONFLICT', 'the compute service is closed');
  }
}
