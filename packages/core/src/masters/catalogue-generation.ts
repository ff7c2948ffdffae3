import { randomBytes } from 'node:crypto';
import { type BlobListItem, type BlobStore, listAll } from '../blobstore/blob-store.js';
import { toVmkitError } from '../errors/vmkit-error.js';
import type { Logger } from '../util/logger.js';

/** What start-up needs to know before trusting a snapshot: the generation and unfinished changes. */
export interface GenerationState {
  /** The current generation token; `undefined` when none was ever written. */
  readonly token?: string;
  /** Change markers left by writers that have not finished (or crashed). */
  readonly pending: readonly BlobListItem[];
}

/** Options of a {@link CatalogueGeneration}. */
export interface CatalogueGenerationOptions {
  /** Where warnings go. */
  readonly logger: Logger;
  /** A change marker older than this belongs to a dead writer and may be removed (default 10 min). */
  readonly staleMs?: number;
  /** The clock (tests). */
  readonly now?: () => number;
}

const GENERATION_BLOB = 'generation';
const PENDING_FOLDER = 'changes/';
const MAX_TOKEN_BYTES = 256;

/**
 * The change protocol of one provider's catalogue, kept beside its snapshot: a generation token
 * that every record change replaces, and a marker blob per change in flight.
 *
 * A change runs in this order: (1) put a marker, (2) change the record blob, (3) put a fresh
 * random generation token, (4) remove the marker. A snapshot carries the token read before its
 * records were read, and is trusted only while that token is still current and no marker exists.
 * A writer that dies after (1) leaves its marker, so a crash anywhere before (4) leaves the
 * snapshot distrusted until a later start-up re-reads every record; a change that finished
 * replaced the token. A random token instead of a counter means no compare-and-swap is needed:
 * any change makes it differ, and it never returns to an old value.
 */
export class CatalogueGeneration {
  readonly #store: BlobStore;
  readonly #container: string;
  readonly #blob: string;
  readonly #pending: string;
  readonly #logger: Logger;
  readonly #staleMs: number;
  readonly #now: () => number;
  /** The token write running now, if any. */
  #running: Promise<void> | undefined;
  /** The token write queued behind it, shared by every change that finished meanwhile. */
  #queued: Promise<void> | undefined;

  constructor(store: BlobStore, container: string, prefix: string, options: CatalogueGenerationOptions) {
    this.#store = store;
    this.#container = container;
    this.#blob = `${prefix}${GENERATION_BLOB}`;
    this.#pending = `${prefix}${PENDING_FOLDER}`;
    this.#logger = options.logger;
    this.#staleMs = options.staleMs ?? 10 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Reads the token and lists change markers (both small: one read and one short listing). */
  async read(): Promise<GenerationState> {
    const [token, pending] = await Promise.all([this.#readToken(), this.#listPending()]);
    return { token, pending };
  }

  /**
   * Runs `change` (which writes or removes record blobs) inside the protocol. The marker is
   * removed only after the token was replaced; if that fails the marker stays, which is safe.
   */
  async change<T>(change: () => Promise<T>): Promise<T> {
    const marker = `${this.#pending}${this.#now().toString(36)}-${randomBytes(8).toString('hex')}`;
    await this.#store.putBlob(this.#container, marker, '');
    let result: T;
    try {
      result = await change();
    } catch (error) {
      // Even a failed change may have landed (a lost answer): the token moves either way. If that
      // fails too the marker stays (safe), and the change's own error is the one reported.
      await this.#settle(marker).catch(() => {});
      throw error;
    }
    await this.#settle(marker);
    return result;
  }

  /**
   * Steps 3 and 4: a fresh token, then the marker removed (only once the token is replaced).
   * Changes of this process that finish while a token write runs share the next one: it starts
   * after all of them landed, so it stands for each (one write instead of one per change).
   */
  async #settle(marker: string): Promise<void> {
    await this.#sharedBump();
    await this.#store.removeBlob(this.#container, marker);
  }

  #sharedBump(): Promise<void> {
    if (this.#queued) return this.#queued;
    const queued = (this.#running ?? Promise.resolve())
      .catch(() => {})
      .then(() => {
        // From here on a finishing change must wait for a later write: this one may be under way.
        this.#queued = undefined;
        const running = this.bump().then(() => {});
        this.#running = running;
        return running;
      });
    this.#queued = queued;
    return queued;
  }

  /** Replaces the token with a fresh one and returns it. */
  async bump(): Promise<string> {
    const token = `${this.#now().toString(36)}-${randomBytes(12).toString('hex')}`;
    await this.#store.putBlob(this.#container, this.#blob, token, { contentType: 'text/plain' });
    return token;
  }

  /** Markers older than the stale limit: their writers are taken as dead. */
  stale(pending: readonly BlobListItem[]): BlobListItem[] {
    return pending.filter((item) => this.#now() - markerTime(item, this.#pending) > this.#staleMs);
  }

  /**
   * Removes dead writers' markers. The token is replaced first, so every snapshot made before is
   * distrusted whatever those writers did; a crash in between only leaves markers behind.
   */
  async reap(stale: readonly BlobListItem[]): Promise<string> {
    const token = await this.bump();
    for (const item of stale) {
      this.#logger.warn('removing the change marker of a master-record writer that did not finish', {
        container: this.#container,
        blob: item.name,
      });
      await this.#store.removeBlob(this.#container, item.name);
    }
    return token;
  }

  async #readToken(): Promise<string | undefined> {
    const blob = await this.#store.getBlob(this.#container, this.#blob);
    if (!blob) return undefined;
    if (blob.size > MAX_TOKEN_BYTES) return undefined; // never matches a snapshot: distrusted
    try {
      return await blob.text();
    } catch (error) {
      throw toVmkitError(error, 'STORE', `reading ${this.#blob}`);
    }
  }

  async #listPending(): Promise<BlobListItem[]> {
    const out: BlobListItem[] = [];
    for await (const item of listAll(this.#store, this.#container, this.#pending)) out.push(item);
    return out;
  }
}

/** When a marker was written: the store's time if it gives one, else the time in its name. */
function markerTime(item: BlobListItem, folder: string): number {
  if (item.lastModified) return item.lastModified.getTime();
  const stamp = Number.parseInt(item.name.slice(folder.length).split('-')[0] ?? '', 36);
  return Number.isFinite(stamp) ? stamp : 0;
}
