import { createHash } from 'node:crypto';
import { type BlobStore, listAll } from '../blobstore/blob-store.js';
import { moveBlobAside } from '../blobstore/move-aside.js';
import { retryingBlobStore } from '../blobstore/retrying-blob-store.js';
import { invalidArgument, toVmkitError, VmkitError } from '../errors/vmkit-error.js';
import { mapSettled } from '../util/concurrency.js';
import type { Logger } from '../util/logger.js';
import { loadValidators, type Validators } from '../validation/load-validators.js';
import { CatalogueGeneration, type CatalogueGenerationOptions } from './catalogue-generation.js';
import { hasLoginSecrets, withoutLoginSecrets } from './login-secrets.js';
import { type MasterRecord, masterBlobName } from './master-record.js';
import { isBadContent, type RecordTrust, trustedRecords, validateRecord } from './master-record-check.js';
import { MasterSnapshot, type SnapshotContent } from './master-snapshot.js';
import { withoutSignature } from './record-signing.js';

/** What {@link MasterRepository.loadAll} found. */
export interface LoadResult {
  /** Valid records. */
  readonly records: MasterRecord[];
  /** Blob names moved aside, with the reason. */
  readonly quarantined: Array<{ readonly name: string; readonly reason: string }>;
}

/** Options of a {@link MasterRepository}. */
export interface MasterRepositoryOptions {
  /** Container of the metadata blobs (at most 52 characters: `-quarantine` is appended for bad blobs). */
  readonly container: string;
  /**
   * Identity of the provider: each provider keeps its own catalogue in the container. A function
   * is called by {@link MasterRepository.init}, for providers that learn their id when connecting.
   */
  readonly providerId: string | (() => string);
  /** Where warnings about bad blobs go. */
  readonly logger: Logger;
  /** Blobs read at once at start-up (default 64). */
  readonly concurrency?: number;
  /**
   * Trust a snapshot made at the current catalogue generation without listing the records
   * (default `true`). `false` lists every record at each start-up, as before generations existed.
   */
  readonly trustSnapshot?: boolean;
  /** Change markers older than this are taken as left by a dead writer and removed (default 10 min). */
  readonly staleChangeMs?: number;
  /** The clock (tests). */
  readonly now?: () => number;
  /**
   * What a record must pass beyond its envelope: the provider's check of the master references
   * it names, and with a signer a valid signature (records are then written signed).
   */
  readonly trust?: RecordTrust;
}

/**
 * The folder of a provider's records inside the container: `p-` and 16 hex digits of the SHA-256
 * of its id, so different hypervisors sharing a store never see or overwrite each other's masters.
 */
export function providerNamespace(providerId: string): string {
  return `p-${createHash('sha256').update(providerId).digest('hex').slice(0, 16)}`;
}

/** Largest metadata blob accepted: a master record is a few KiB; anything huge is hostile. */
const MAX_RECORD_BYTES = 4 * 1024 * 1024;

/**
 * Persists master metadata as one JSON blob per image in a blob-store container, and moves
 * aside (quarantines) blobs that cannot be trusted, so one bad blob never stops start-up.
 */
export class MasterRepository {
  readonly #store: BlobStore;
  readonly #container: string;
  readonly #quarantine: string;
  readonly #logger: Logger;
  readonly #concurrency: number;
  readonly #providerId: () => string;
  readonly #trustSnapshot: boolean;
  readonly #generationOptions: CatalogueGenerationOptions;
  readonly #trust: RecordTrust;
  #snapshot: MasterSnapshot;
  #generation: CatalogueGeneration;
  #prefix: string;

  constructor(store: BlobStore, options: MasterRepositoryOptions) {
    // Catalogue reads and changes retry what is retryable (see retryingBlobStore).
    this.#store = retryingBlobStore(store);
    this.#container = options.container;
    if (options.container.length > 52) {
      throw invalidArgument('container', 'must be at most 52 characters (suffixes are appended)');
    }
    this.#quarantine = `${options.container}-quarantine`;
    this.#logger = options.logger;
    this.#concurrency = options.concurrency ?? 64;
    const id = options.providerId;
    this.#providerId = typeof id === 'function' ? id : () => id;
    this.#trustSnapshot = options.trustSnapshot ?? true;
    this.#trust = options.trust ?? {};
    this.#generationOptions = { logger: options.logger, staleMs: options.staleChangeMs, now: options.now };
    this.#prefix = `${providerNamespace(this.#providerId())}/`;
    this.#snapshot = this.#snapshotFor(this.#prefix);
    this.#generation = this.#generationFor(this.#prefix);
  }

  #snapshotFor(prefix: string): MasterSnapshot {
    return new MasterSnapshot(this.#store, `${this.#container}-index`, prefix, this.#logger);
  }

  #generationFor(prefix: string): CatalogueGeneration {
    return new CatalogueGeneration(this.#store, `${this.#container}-index`, prefix, this.#generationOptions);
  }

  /** The blob store holding the metadata. */
  get store(): BlobStore {
    return this.#store;
  }

  /** The container holding the metadata. */
  get container(): string {
    return this.#container;
  }

  /** The container holding quarantined blobs. */
  get quarantineContainer(): string {
    return this.#quarantine;
  }

  /** Settles the provider's namespace (its id is read now) and creates the containers if missing. */
  async init(): Promise<void> {
    const prefix = `${providerNamespace(this.#providerId())}/`;
    if (prefix !== this.#prefix) {
      this.#prefix = prefix;
      this.#snapshot = this.#snapshotFor(prefix);
      this.#generation = this.#generationFor(prefix);
    }
    await this.#store.createContainer(this.#container);
    await this.#store.createContainer(this.#quarantine);
    await this.#store.createContainer(this.#snapshot.container);
  }

  /**
   * Loads and validates every record; bad blobs are quarantined with a warning naming them.
   * When the snapshot was made at the current catalogue generation and no change is in flight,
   * its records are the catalogue and nothing is listed. Otherwise every record blob is listed:
   * those unchanged since the snapshot (same entity tag) come from it, the others are read one
   * by one, and the snapshot is rewritten at the generation read before the listing.
   */
  async loadAll(): Promise<LoadResult> {
    const first = await this.#loadOnce();
    const legacy = first.records.filter((record) => hasLoginSecrets(record.spec));
    if (legacy.length === 0) return first;
    // Records of earlier versions kept login secrets: they are rewritten without them (same
    // master, no rebuild), then the catalogue is read again so that the snapshot is rewritten too.
    try {
      for (const record of legacy) await this.save(withoutLoginSecrets(record));
    } catch (error) {
      this.#logger.warn('could not rewrite master records without their login secrets', {
        images: legacy.map((r) => r.imageId),
        error: toVmkitError(error, 'STORE', 'rewriting records').message,
      });
      return { ...first, records: first.records.map(withoutLoginSecrets) };
    }
    this.#logger.info('rewrote master records without their login secrets', {
      images: legacy.map((r) => r.imageId),
    });
    const again = await this.#loadOnce();
    return {
      records: again.records.map(withoutLoginSecrets),
      quarantined: [...first.quarantined, ...again.quarantined],
    };
  }

  async #loadOnce(): Promise<LoadResult> {
    const checks = await loadValidators();
    const [state, snapshot] = await Promise.all([this.#generation.read(), this.#snapshot.read()]);
    if (
      this.#trustSnapshot &&
      state.token !== undefined &&
      state.pending.length === 0 &&
      snapshot.generation === state.token
    ) {
      const records = trustedRecords(checks, this.#prefix, snapshot.entries, this.#trust);
      if (records) return { records, quarantined: [] };
      this.#logger.warn('master snapshot holds an invalid record; reading every record instead', {
        container: this.#snapshot.container,
      });
    }
    let generation = state.token;
    const stale = this.#generation.stale(state.pending);
    if (generation === undefined || stale.length > 0) generation = await this.#generation.reap(stale);
    return this.#loadListed(checks, generation, snapshot);
  }

  async #loadListed(checks: Validators, generation: string, snapshot: SnapshotContent): Promise<LoadResult> {
    const listed: Array<{ name: string; etag?: string }> = [];
    for await (const item of listAll(this.#store, this.#container, this.#prefix)) {
      listed.push({ name: item.name, etag: item.etag });
    }
    let fetched = 0;
    const settled = await mapSettled(listed, this.#concurrency, async ({ name, etag }) => {
      const cached = etag === undefined ? undefined : snapshot.entries.get(name);
      if (cached && cached.etag === etag) {
        try {
          return { record: validateRecord(checks, name, this.#prefix, cached.record, this.#trust), etag };
        } catch {
          // A snapshot entry that does not validate is ignored: the blob itself decides.
        }
      }
      fetched++;
      return this.#fetch(name);
    });
    const quarantined: Array<{ name: string; reason: string }> = [];
    const records: MasterRecord[] = [];
    const entries: Array<{ name: string; etag?: string; record: MasterRecord }> = [];
    for (const [i, outcome] of settled.entries()) {
      const name = (listed[i] as { name: string }).name;
      if (outcome.status === 'fulfilled') {
        const found = outcome.value;
        if (!found) continue;
        records.push(found.record);
        entries.push({ name, etag: found.etag, record: found.record });
        continue;
      }
      // Only bad content is quarantined; a store that fails (down, denied) fails start-up instead.
      if (!isBadContent(outcome.reason)) throw toVmkitError(outcome.reason, 'STORE', `loading ${name}`);
      const reason = (outcome.reason as Error).message;
      await this.quarantine(name, reason);
      quarantined.push({ name, reason });
    }
    const changed = fetched > 0 || quarantined.length > 0 || snapshot.entries.size !== entries.length;
    if (changed || snapshot.generation !== generation) await this.#snapshot.write(generation, entries);
    return { records, quarantined };
  }

  /** The folder of this provider's records in the container. */
  get prefix(): string {
    return this.#prefix;
  }

  /** Reads one image's record; `undefined` when absent; a bad blob is quarantined and reads as absent. */
  async get(imageId: string): Promise<MasterRecord | undefined> {
    const name = this.#blobName(imageId);
    try {
      const record = await this.#read(name);
      return record && withoutLoginSecrets(record);
    } catch (error) {
      if (!isBadContent(error)) throw toVmkitError(error, 'STORE', `loading ${name}`);
      await this.quarantine(name, error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  /**
   * Validates untrusted JSON as the record stored under `name` (in this provider's folder unless
   * `prefix` says another): the checks of every load. Throws `CORRUPT` or `INVALID_ARGUMENT`.
   */
  async validate(name: string, json: unknown, prefix = this.#prefix): Promise<MasterRecord> {
    return validateRecord(await loadValidators(), name, prefix, json, this.#trust);
  }

  /**
   * Writes a record atomically (a catalogue change: the next start-up re-reads changed records),
   * signed with the fleet's key when records are signed (any earlier signature is dropped). With
   * `createOnly`, the store refuses (`CONFLICT`) when the image has a record already, whoever wrote
   * it: two processes making one new image id cannot both win.
   */
  async save(input: MasterRecord, options: { readonly createOnly?: boolean } = {}): Promise<void> {
    const record = this.#trust.signer ? this.#trust.signer.sign(input) : withoutSignature(input);
    await this.#generation.change(() =>
      this.#store.putBlob(this.#container, this.#blobName(record.imageId), JSON.stringify(record, null, 2), {
        contentType: 'application/json',
        metadata: { 'schema-version': String(record.schemaVersion), 'spec-hash': record.specHash },
        ...(options.createOnly ? { ifNoneMatch: '*' as const } : {}),
      }),
    );
  }

  /** Removes an image's record; absent is fine. */
  async remove(imageId: string): Promise<void> {
    await this.#generation.change(() => this.#store.removeBlob(this.#container, this.#blobName(imageId)));
  }

  /**
   * Moves a blob into the quarantine container and logs a warning naming it. The original is
   * removed only once its copy is stored, so nothing is lost when the move fails.
   */
  async quarantine(name: string, reason: string): Promise<void> {
    this.#logger.warn('quarantined master metadata blob', { container: this.#container, blob: name, reason });
    try {
      await this.#generation.change(() =>
        moveBlobAside(this.#store, { container: this.#container, name, aside: this.#quarantine }, reason),
      );
    } catch (error) {
      this.#logger.error('could not move a bad metadata blob aside; it stays and is ignored', {
        blob: name,
        error: toVmkitError(error, 'STORE', 'quarantine').message,
      });
    }
  }

  #blobName(imageId: string): string {
    return `${this.#prefix}${masterBlobName(imageId)}`;
  }

  async #read(name: string): Promise<MasterRecord | undefined> {
    return (await this.#fetch(name))?.record;
  }

  async #fetch(name: string): Promise<{ record: MasterRecord; etag?: string } | undefined> {
    const blob = await this.#store.getBlob(this.#container, name);
    if (!blob) return undefined;
    if (blob.size > MAX_RECORD_BYTES) {
      throw new VmkitError(
        'CORRUPT',
        `${name}: ${blob.size} bytes exceeds the ${MAX_RECORD_BYTES}-byte limit`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(await blob.text());
    } catch (error) {
      throw new VmkitError('CORRUPT', `${name}: not JSON (${(error as Error).message})`, { cause: error });
    }
    return { record: await this.validate(name, json), etag: blob.etag };
  }
}
