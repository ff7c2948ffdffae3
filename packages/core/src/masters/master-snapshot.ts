import type { BlobStore } from '../blobstore/blob-store.js';
import type { Logger } from '../util/logger.js';
import type { MasterRecord } from './master-record.js';

/** One record as the snapshot remembers it, with the entity tag of the blob it came from. */
export interface SnapshotEntry {
  /** The metadata blob's name. */
  readonly name: string;
  /** The blob's entity tag when it was read. */
  readonly etag: string;
  /** The record, still to be validated by the reader: a snapshot is untrusted input. */
  readonly record: unknown;
}

const SNAPSHOT_BLOB = 'records.json';
const MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024;

/**
 * A single blob holding a copy of every master record with its blob's entity tag, so that start-up
 * over a remote store reads one object instead of one per master. It is only a cache: a record is
 * taken from it only when the listing shows the blob still has the same entity tag, and it is
 * validated like the blob itself. Stores whose listings give no entity tags do not use it.
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

  /** Entries by blob name; empty when there is no usable snapshot. */
  async read(): Promise<Map<string, SnapshotEntry>> {
    const out = new Map<string, SnapshotEntry>();
    try {
      const blob = await this.#store.getBlob(this.#container, this.#blob);
      if (!blob || blob.size > MAX_SNAPSHOT_BYTES) return out;
      const parsed = JSON.parse(await blob.text()) as { schemaVersion?: unknown; entries?: unknown };
      if (parsed?.schemaVersion !== 1 || !Array.isArray(parsed.entries)) return out;
      for (const entry of parsed.entries as SnapshotEntry[]) {
        if (typeof entry?.name === 'string' && typeof entry.etag === 'string') out.set(entry.name, entry);
      }
    } catch (error) {
      this.#logger.warn('master snapshot unreadable; reading every record instead', { error: String(error) });
      out.clear();
    }
    return out;
  }

  /** Replaces the snapshot (best effort: a failure only costs the next start-up time). */
  async write(entries: ReadonlyArray<{ name: string; etag: string; record: MasterRecord }>): Promise<void> {
    try {
      await this.#store.putBlob(this.#container, this.#blob, JSON.stringify({ schemaVersion: 1, entries }), {
        contentType: 'application/json',
      });
    } catch (error) {
      this.#logger.warn('could not write the master snapshot', { error: String(error) });
    }
  }
}
