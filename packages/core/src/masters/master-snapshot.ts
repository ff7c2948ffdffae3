import type { BlobStore } from '../blobstore/blob-store.js';
import type { Logger } from '../util/logger.js';
import type { MasterRecord } from './master-record.js';

/** One record as the snapshot remembers it, with the entity tag of the blob it came from. */
export interface SnapshotEntry {
  /** The metadata blob's name. */
  readonly name: string;
  /** The blob's entity tag when it was read, when the store gave one. */
  readonly etag?: string;
  /** The record, still to be validated by the reader: a snapshot is untrusted input. */
  readonly record: unknown;
}

/** A snapshot as read: its entries and the catalogue generation it was made at. */
export interface SnapshotContent {
  /** The generation token read before the records were; `undefined` for an old or unusable snapshot. */
  readonly generation?: string;
  /** Entries by blob name; empty when there is no usable snapshot. */
  readonly entries: Map<string, SnapshotEntry>;
}

const SNAPSHOT_BLOB = 'records.json';
const MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024;

/**
 * A single blob holding a copy of every master record of a provider, so that start-up reads one
 * object instead of one per master. It carries the catalogue generation it was made at (see
 * `CatalogueGeneration`): while that generation is current and no change is in flight, the
 * snapshot is the catalogue and nothing is listed. Otherwise it is only a cache: a record is
 * taken from it when the listing shows its blob has the same entity tag. Its records are
 * validated like the blobs themselves either way.
 */
export class MasterSnapshot {
  readonly #store: BlobStore;
  readonly #container: string;
  readonly #logger: Logger;
  readonly #blob: string;

  constructor(store: BlobStore, container: string, prefix: string, logger: Logger) {
    this.#store = store;
    this.#container = container;
    this.#logger = logger;
    this.#blob = `${prefix}${SNAPSHOT_BLOB}`;
  }

  /** The container holding the snapshot. */
  get container(): string {
    return this.#container;
  }

  /** The snapshot; no entries and no generation when there is none or it is unreadable. */
  async read(): Promise<SnapshotContent> {
    const entries = new Map<string, SnapshotEntry>();
    try {
      const blob = await this.#store.getBlob(this.#container, this.#blob);
      if (!blob || blob.size > MAX_SNAPSHOT_BYTES) return { entries };
      const parsed = JSON.parse(await blob.text()) as {
        schemaVersion?: unknown;
        generation?: unknown;
        entries?: unknown;
      };
      const version = parsed?.schemaVersion;
      if ((version !== 1 && version !== 2) || !Array.isArray(parsed.entries)) return { entries };
      for (const entry of parsed.entries as SnapshotEntry[]) {
        // A malformed or repeated entry makes the whole snapshot unusable: none is silently dropped.
        if (typeof entry?.name !== 'string' || entries.has(entry.name)) return { entries: new Map() };
        if (entry.etag !== undefined && typeof entry.etag !== 'string') return { entries: new Map() };
        entries.set(entry.name, entry);
      }
      const generation =
        version === 2 && typeof parsed.generation === 'string' ? parsed.generation : undefined;
      return { generation, entries };
    } catch (error) {
      this.#logger.warn('master snapshot unreadable; reading every record instead', { error: String(error) });
      return { entries: new Map() };
    }
  }

  /** Replaces the snapshot (best effort: a failure only costs the next start-up time). */
  async write(
    generation: string,
    entries: ReadonlyArray<{ name: string; etag?: string; record: MasterRecord }>,
  ): Promise<void> {
    try {
      await this.#store.putBlob(
        this.#container,
        this.#blob,
        JSON.stringify({ schemaVersion: 2, generation, entries }),
        { contentType: 'application/json' },
      );
    } catch (error) {
      this.#logger.warn('could not write the master snapshot', { error: String(error) });
    }
  }
}
