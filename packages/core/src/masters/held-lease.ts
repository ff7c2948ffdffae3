import type { BlobStore } from '../blobstore/blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import type { Logger } from '../util/logger.js';
import type { ResolvedBuildLeaseOptions } from './build-lease-options.js';
import { leaseBlobName } from './build-lease-options.js';
import type { LeaseRecord } from './lease-record.js';

/** Where a held lease lives and how it is kept. */
export interface HeldLeasePlace {
  readonly store: BlobStore;
  readonly container: string;
  /** The image's lease folder ({@link buildLeaseKey}). */
  readonly key: string;
  readonly options: ResolvedBuildLeaseOptions;
  readonly logger: Logger;
}

/** How many of the latest lease writes {@link HeldLease} judges the store's latency by. */
const LATENCY_WINDOW = 4;
/** At most this many renewals of one lease are on their way at once (on a store that answers slowly). */
const MAX_IN_FLIGHT = 3;

/**
 * A build lease this process holds. It renews itself by writing the next generation create-only:
 * a conflict means another process took the lease over, and `lost` fires. A holder whose newest
 * generation lapses before a later one landed (store unreachable or too slow) gives the lease up
 * too, the moment it lapses, so two builders never both believe they hold it.
 *
 * Renewals keep time with the store. Each starts `renewMs` after the previous one started, not
 * after its answer (nor after the removal of the generation it replaced, which runs meanwhile),
 * and earlier when the store answers slowly: no later than twice the slowest of the latest writes
 * before the deadline. On a store that answers slowly the next renewal does not wait for the one
 * on its way (up to {@link MAX_IN_FLIGHT} at once): each generation lapses `ttlMs` after its own
 * write started, so a store that takes up to nearly the TTL to answer each write never costs the
 * lease, where one write at a time would lose it from about half the TTL. A renewal that failed is
 * tried again soon. Every write is create-only: any conflict, whichever generation, loses the lease.
 */
export class HeldLease {
  readonly #place: HeldLeasePlace;
  /** The newest generation that landed. */
  #record: LeaseRecord;
  /** When {@link #record} lapses on this host's clock. */
  #deadline: number;
  /** The highest generation written or on its way. */
  #sent: number;
  /** When the latest renewal started. */
  #lastStart: number;
  /** Generations of ours that may be in the store, but for the current one (removed when superseded). */
  readonly #stale = new Set<number>();
  /** How long the latest lease writes took to answer, in ms (newest last). */
  readonly #latencies: number[];
  readonly #lost = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  /** Renewals on their way. */
  readonly #renewing = new Map<number, Promise<void>>();
  /** Removals of superseded generations still running (awaited by `release`). */
  readonly #pruning = new Set<Promise<void>>();
  #retrySoon = false;
  #released = false;

  /**
   * `deadline` is when the record lapses on this host's clock (the write's start plus `ttlMs`);
   * `latencyMs`, how long that write took to answer.
   */
  constructor(place: HeldLeasePlace, record: LeaseRecord, deadline: number, latencyMs = 0) {
    this.#place = place;
    this.#record = record;
    this.#deadline = deadline;
    this.#sent = record.generation;
    this.#lastStart = deadline - place.options.ttlMs;
    this.#latencies = [latencyMs];
    this.#watchDeadline();
    this.#schedule();
  }

  /** The current generation's record. */
  get record(): LeaseRecord {
    return this.#record;
  }

  /** Fires (with a `CONFLICT` reason) when the lease was taken over or could not be renewed. */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  /**
   * Stops renewing and removes this holder's lease blobs. A lost lease's blobs are removed too:
   * they are this holder's generations (a taker's are other numbers), and one that landed after
   * the taker's would otherwise stand in its way until it lapsed.
   */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadlineTimer);
    await Promise.all(this.#renewing.values());
    this.#prune(Number.POSITIVE_INFINITY);
    await Promise.all(this.#pruning);
    const { store, container, key } = this.#place;
    await store.removeBlob(container, leaseBlobName(key, this.#record.generation)).catch((error: unknown) => {
      if (this.#lost.signal.aborted) return;
      this.#place.logger.warn('could not remove a build lease; it lapses on its own', {
        imageId: this.#record.imageId,
        error: String(error),
      });
    });
  }

  /** The slowest of the latest lease writes, in ms. */
  get #slowest(): number {
    return Math.max(...this.#latencies);
  }

  #noteLatency(ms: number): void {
    this.#latencies.push(ms);
    this.#latencies.splice(0, this.#latencies.length - LATENCY_WINDOW);
  }

  /** Schedules the next renewal: `renewMs` after the latest one started, or earlier on a slow store. */
  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#released || this.#lost.signal.aborted || this.#renewing.size >= MAX_IN_FLIGHT) return;
    const { renewMs } = this.#place.options;
    const now = Date.now();
    const due = this.#retrySoon
      ? now + Math.min(renewMs, Math.max(0, this.#deadline - now - this.#slowest) / 4)
      : Math.min(this.#lastStart + renewMs, this.#deadline - 2 * this.#slowest);
    this.#timer = setTimeout(() => this.#dispatch(), Math.max(0, due - now));
    this.#timer.unref();
  }

  /** Starts the next renewal, and schedules the one after it. */
  #dispatch(): void {
    if (this.#released || this.#lost.signal.aborted) return;
    const generation = ++this.#sent;
    const started = Date.now();
    this.#lastStart = started;
    this.#retrySoon = false;
    this.#stale.add(generation);
    const renewal = this.#renew(generation, started)
      .catch(() => {
        this.#retrySoon = true;
      })
      .finally(() => {
        this.#renewing.delete(generation);
        this.#schedule();
      });
    this.#renewing.set(generation, renewal);
    this.#schedule();
  }

  /** Gives the lease up the moment its deadline passes unrenewed (a renewal may still be on its way). */
  #watchDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = setTimeout(
      () => {
        if (this.#released || this.#lost.signal.aborted) return;
        if (Date.now() < this.#deadline) return this.#watchDeadline();
        this.#lose(`the build lease of image ${this.#record.imageId} lapsed before it was renewed`);
      },
      Math.max(0, this.#deadline - Date.now()),
    );
    this.#deadlineTimer.unref();
  }

  /** Writes generation `generation` (its lapse counted from `started`). */
  async #renew(generation: number, started: number): Promise<void> {
    const { store, container, key, options } = this.#place;
    const next: LeaseRecord = {
      ...this.#record,
      generation,
      expiresAt: new Date(started + options.ttlMs).toISOString(),
    };
    try {
      await store.putBlob(container, leaseBlobName(key, generation), JSON.stringify(next), {
        contentType: 'application/json',
        ifNoneMatch: '*',
      });
    } catch (error) {
      this.#noteLatency(Date.now() - started);
      if (VmkitError.is(error, 'CONFLICT')) {
        this.#stale.delete(generation); // another process's blob
        this.#lose(`the build lease of image ${next.imageId} was taken over by another process`);
      } else if (this.#renewing.size <= 1 && Date.now() + this.#slowest >= this.#deadline) {
        this.#lose(
          `the build lease of image ${next.imageId} could not be renewed in time (${String(error)})`,
        );
      } else if (!this.#lost.signal.aborted) {
        this.#place.logger.warn('could not renew a build lease; will retry', {
          imageId: next.imageId,
          error: String(error),
        });
        this.#retrySoon = true;
      }
      return;
    }
    this.#noteLatency(Date.now() - started);
    if (this.#lost.signal.aborted || this.#released) return; // in #stale: `release` removes it
    if (Date.now() >= this.#deadline) {
      // Landed too late: another process may already have judged the lease lapsed.
      this.#lose(`the build lease of image ${next.imageId} lapsed before it was renewed`);
      return;
    }
    if (generation < this.#record.generation) {
      this.#prune(this.#record.generation, generation); // a newer generation landed first
      return;
    }
    this.#stale.delete(generation);
    this.#stale.add(this.#record.generation);
    this.#record = next;
    this.#deadline = started + options.ttlMs;
    this.#watchDeadline();
    this.#prune(generation);
  }

  /**
   * Removes our generations below `below` that are not on their way (superseded, or the lease is
   * given up); `landed` is one that just answered, though still counted as on its way.
   */
  #prune(below: number, landed?: number): void {
    const { store, container, key } = this.#place;
    for (const generation of this.#stale) {
      if (generation >= below || (generation !== landed && this.#renewing.has(generation))) continue;
      this.#stale.delete(generation);
      const pruning: Promise<void> = store
        .removeBlob(container, leaseBlobName(key, generation))
        .catch(() => {})
        .finally(() => this.#pruning.delete(pruning));
      this.#pruning.add(pruning);
    }
  }

  #lose(message: string): void {
    if (this.#lost.signal.aborted) return;
    clearTimeout(this.#deadlineTimer);
    clearTimeout(this.#timer);
    this.#place.logger.warn('lost a build lease; the build is aborted', {
      imageId: this.#record.imageId,
      reason: message,
    });
    this.#lost.abort(new VmkitError('CONFLICT', message, { details: { imageId: this.#record.imageId } }));
  }
}
