import { LRUCache } from 'lru-cache';
import { isAbortError, VmkitError } from '../errors/vmkit-error.js';
import type { Image, ImageStatus } from '../model/image.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { Logger } from '../util/logger.js';
import type { OperationOptions } from '../util/progress.js';
import { Semaphore } from '../util/semaphore.js';
import { SingleFlight } from '../util/single-flight.js';
import { validators } from '../validation/load-validators.js';
import { buildAndRecord } from './build-and-record.js';
import type { BuildLeases } from './build-lease.js';
import { buildUnderLease } from './build-under-lease.js';
import { imageOf } from './image-view.js';
import { masterSpecHash } from './login-secrets.js';
import type { MasterRecord, WarmStateRecord } from './master-record.js';
import type { MasterRepository } from './master-repository.js';
import { noSuchImage } from './no-such-image.js';
import type { SharedMasters } from './shared-masters.js';

/** Options of the {@link MasterCache}. */
export interface MasterCacheOptions {
  /** Verified masters kept in memory (default 1000). Eviction never deletes a master. */
  readonly max: number;
  /** How long a verified master is trusted before it is checked against the provider again (default 10 min). */
  readonly ttlMs: number;
  /** Builds running at once across all images (default 2). */
  readonly builds: number;
  /** With `shareMasters`: masters adopted from and published to the fleet's store. */
  readonly shared?: SharedMasters;
  /** Cross-process build leases: when set, a build waits for other processes' builds of the image. */
  readonly leases?: BuildLeases;
  /** With `shared`: this host's adoption leases (one adoption of an image at a time per host). */
  readonly adoptions?: BuildLeases;
}

interface Entry {
  spec: MasterSpec;
  hash: string;
  record?: MasterRecord;
  status: ImageStatus;
  detail?: string;
}

/**
 * The loading cache of masters. `get` returns a verified master: from memory (lru-cache), else from
 * persisted metadata whose master still exists on the provider, else by building it, once per image
 * however many callers ask at the same time (single flight). A failed or aborted build leaves no
 * partial master and does not poison the cache: the next `get` builds again.
 */
export class MasterCache {
  readonly #provider: HypervisorProvider;
  readonly #repository: MasterRepository;
  readonly #logger: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #verified: LRUCache<string, MasterRecord>;
  readonly #flights = new SingleFlight<string, MasterRecord>();
  readonly #buildSlots: Semaphore;
  readonly #shared: SharedMasters | undefined;
  readonly #leases: BuildLeases | undefined;
  readonly #adoptions: BuildLeases | undefined;

  constructor(
    provider: HypervisorProvider,
    repository: MasterRepository,
    logger: Logger,
    options: MasterCacheOptions,
  ) {
    this.#provider = provider;
    this.#repository = repository;
    this.#logger = logger;
    this.#verified = new LRUCache({ max: options.max, ttl: options.ttlMs, ttlAutopurge: false });
    this.#buildSlots = new Semaphore(options.builds);
    this.#shared = options.shared;
    this.#leases = options.leases;
    this.#adoptions = options.adoptions;
  }

  /** Adds or replaces a spec in the catalogue; a changed spec makes its image buildable again. */
  register(input: MasterSpec): { readonly spec: MasterSpec; readonly hash: string } {
    const spec = validators().checkMasterSpec(input, 'spec');
    const hash = masterSpecHash(spec);
    const existing = this.#entries.get(spec.id);
    if (existing && existing.hash === hash) return existing;
    if (this.#flights.has(spec.id)) {
      throw new VmkitError('CONFLICT', `image ${spec.id} is being built from another spec`, {
        details: { imageId: spec.id },
      });
    }
    const entry: Entry = { spec, hash, status: 'buildable' };
    if (existing?.record) {
      this.#logger.info('image spec changed; its master will be rebuilt', { imageId: spec.id });
      entry.record = existing.record;
      entry.status = 'buildable';
    }
    this.#entries.set(spec.id, entry);
    this.#verified.delete(spec.id);
    return entry;
  }

  /**
   * Loads persisted metadata: records are validated (bad blobs quarantined), merged with the
   * configured specs and checked against the provider in one batch. Returns what was quarantined.
   */
  async load(): Promise<Array<{ name: string; reason: string }>> {
    const { records, quarantined } = await this.#repository.loadAll();
    const usable: MasterRecord[] = [];
    for (const record of records) {
      const entry = this.#entries.get(record.imageId);
      if (!entry) {
        this.#entries.set(record.imageId, {
          spec: record.spec,
          hash: record.specHash,
          record,
          status: 'available',
        });
        usable.push(record);
      } else if (entry.hash === record.specHash) {
        entry.record = record;
        entry.status = 'available';
        usable.push(record);
      } else {
        entry.record = record; // stale: kept so the old master can be cleaned up after the rebuild
        this.#logger.info('persisted master was built from an older spec; it will be rebuilt', {
          imageId: record.imageId,
        });
      }
    }
    const exists = usable.length > 0 ? await this.#provider.mastersExist(usable.map((r) => r.master)) : [];
    for (const [i, record] of usable.entries()) {
      const entry = this.#entries.get(record.imageId) as Entry;
      if (exists[i]) {
        this.#verified.set(record.imageId, record);
      } else {
        entry.status = 'broken';
        entry.detail = record.origin
          ? unrebuildable(record)
          : `master ${record.master.id} no longer exists on the provider; it will be rebuilt on demand`;
        this.#logger.warn('master vanished from the provider', {
          imageId: record.imageId,
          master: record.master.id,
        });
      }
    }
    return quarantined;
  }

  /** Every image in the catalogue. */
  list(): Image[] {
    return [...this.#entries.values()].map((e) => this.#view(e)).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** One image, or `undefined`. */
  image(id: string): Image | undefined {
    const entry = this.#entries.get(id);
    return entry ? this.#view(entry) : undefined;
  }

  /** The spec of an image, or `undefined`. */
  spec(id: string): MasterSpec | undefined {
    return this.#entries.get(id)?.spec;
  }

  /** The loading cache's get: a verified master for the image, built if needed. */
  async get(id: string, options: OperationOptions = {}): Promise<MasterRecord> {
    const hit = this.#verified.get(id);
    if (hit) return hit;
    const entry = this.#entries.get(id);
    if (!entry) throw noSuchImage(id, [...this.#entries.keys()]);
    return this.#flights.run(
      id,
      (signal, progress) => this.#load(entry, { signal, onProgress: progress }),
      options,
    );
  }

  /**
   * Adds an image whose master was made outside a build (`createImageFromNode`) and whose record
   * is saved: it lists, clones and exports as a built one. With `shareMasters` its master is
   * published to the fleet as a build's is (never throws: see `SharedMasters.publish`).
   */
  async add(
    record: MasterRecord,
    spec: MasterSpec,
    work: Required<Pick<OperationOptions, 'signal' | 'onProgress'>>,
  ): Promise<void> {
    this.#entries.set(spec.id, { spec, hash: record.specHash, record, status: 'available' });
    this.#verified.set(spec.id, record);
    await this.#shared?.publish(spec, record.specHash, record.master, work);
  }

  /**
   * Forgets an image's master (after deleting it). An image that is configured goes back to its
   * configured spec, buildable; any other image is forgotten.
   */
  forget(id: string, configured: MasterSpec | undefined): void {
    this.#verified.delete(id);
    this.#entries.delete(id);
    if (configured) this.register(configured);
  }

  /** Builds running now, to wait for them (e.g. on close). */
  running(): Promise<unknown>[] {
    return this.#flights.pending();
  }

  /** The persisted record of an image, if it has one. */
  record(id: string): MasterRecord | undefined {
    return this.#entries.get(id)?.record;
  }

  /** Whether a build of the image is running. */
  building(id: string): boolean {
    return this.#flights.has(id);
  }

  /** Aborts every running build. */
  abortAll(): void {
    this.#flights.abortAll(new VmkitError('ABORTED', 'compute service closed'));
  }

  async #load(
    entry: Entry,
    options: Required<Pick<OperationOptions, 'signal' | 'onProgress'>>,
  ): Promise<MasterRecord> {
    const id = entry.spec.id;
    if (entry.record && entry.record.specHash === entry.hash) {
      const [exists] = await this.#provider.mastersExist([entry.record.master]);
      if (exists) {
        entry.status = 'available';
        this.#verified.set(id, entry.record);
        return entry.record;
      }
      if (entry.record.origin) {
        entry.status = 'broken';
        entry.detail = unrebuildable(entry.record);
        throw new VmkitError('NOT_FOUND', entry.detail, {
          details: { imageId: id, master: entry.record.master.id },
        });
      }
      this.#logger.warn('master vanished from the provider; rebuilding', {
        imageId: id,
        master: entry.record.master.id,
      });
    }
    return this.#build(entry, options);
  }

  async #build(
    entry: Entry,
    options: Required<Pick<OperationOptions, 'signal' | 'onProgress'>>,
  ): Promise<MasterRecord> {
    const { spec, hash } = entry;
    const previous = entry.record;
    const release = await this.#buildSlots.acquire(options.signal);
    entry.status = 'building';
    entry.detail = undefined;
    try {
      const request = { spec, hash, previous, shared: this.#shared, ...options };
      const record = this.#leases
        ? await buildUnderLease(
            this.#provider,
            this.#repository,
            { build: this.#leases, adopt: this.#adoptions },
            this.#logger,
            request,
          )
        : await buildAndRecord(this.#provider, this.#repository, this.#logger, request);
      entry.record = record;
      entry.status = 'available';
      this.#verified.set(spec.id, record);
      if (record.retired?.length) await this.collectRetired(spec.id);
      return entry.record;
    } catch (error) {
      // An abort is the caller's choice, not a fault of the image: it stays buildable.
      entry.status = isAbortError(error) ? 'buildable' : 'broken';
      entry.detail =
        entry.status === 'broken' ? (error instanceof Error ? error.message : String(error)) : undefined;
      throw error;
    } finally {
      release();
    }
  }

  /**
   * Deletes an image's superseded masters once no node of the image is left (a node's linked
   * clone may depend on any of them). Masters that cannot be deleted stay listed for next time.
   */
  async collectRetired(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    const record = entry?.record;
    if (!entry || !record?.retired?.length) return;
    const nodes = await this.#provider.listNodes();
    if (nodes.some((n) => n.imageId === id)) return;
    const kept = [];
    for (const ref of record.retired) {
      try {
        await this.#provider.deleteMaster(ref);
      } catch (error) {
        this.#logger.warn('could not delete a superseded master; will retry', {
          master: ref.id,
          error: String(error),
        });
        kept.push(ref);
      }
    }
    const { retired: _, ...rest } = record;
    const updated: MasterRecord = kept.length > 0 ? { ...rest, retired: kept } : rest;
    await this.#repository.save(updated);
    entry.record = updated;
    if (this.#verified.has(id)) this.#verified.set(id, updated);
  }

  /**
   * Records (or replaces) an image's warm state in its record, saved to the store. The record must
   * still be the one `expected` names (the master was not rebuilt meanwhile): `CONFLICT` otherwise.
   */
  async setWarm(id: string, expected: MasterRecord, warm: WarmStateRecord): Promise<MasterRecord> {
    const entry = this.#entries.get(id);
    const record = entry?.record;
    if (!entry || !record || record.master.id !== expected.master.id || record.specHash !== expected.specHash)
      throw new VmkitError('CONFLICT', `image ${id}: its master changed while its warm state was saved`, {
        details: { imageId: id },
      });
    const updated: MasterRecord = { ...record, warm };
    await this.#repository.save(updated);
    entry.record = updated;
    if (this.#verified.has(id)) this.#verified.set(id, updated);
    return updated;
  }

  /** Images whose records list superseded masters. */
  withRetired(): string[] {
    return [...this.#entries.values()].filter((e) => e.record?.retired?.length).map((e) => e.spec.id);
  }

  #view(entry: Entry): Image {
    const status: ImageStatus = this.#flights.has(entry.spec.id) ? 'building' : entry.status;
    return imageOf(
      entry.spec,
      entry.hash,
      status,
      entry.detail,
      entry.record?.specHash === entry.hash ? entry.record : undefined,
    );
  }
}

/** Why an image made from a node is broken once its master is gone: nothing can make it again. */
function unrebuildable(record: MasterRecord): string {
  const origin = record.origin as NonNullable<MasterRecord['origin']>;
  return (
    `master ${record.master.id} no longer exists on the provider; the image was made from node ` +
    `${origin.node} (of image ${origin.imageId}) and cannot be built again: delete it`
  );
}
