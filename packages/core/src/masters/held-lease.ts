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

/**
 * A build lease this process holds. It renews itself by writing the next generation create-only:
 * a conflict means another process took the lease over, and `lost` fires. A holder that could not
 * renew before its own deadline (store unreachable) gives the lease up too, the moment the deadline
 * passes, so two builders never both believe they hold it.
 *
 * Renewals keep time with the store: each starts `renewMs` after the previous one started (not
 * after its answer, nor after the previous generation's removal, which runs meanwhile), and
 * earlier when the store answers slowly: no later than twice the slowest of its latest writes
 * before the deadline. A failed renewal is tried again at once-ish, while a try can still land in
 * time. So a store that takes up to about half the TTL to answer never costs the lease.
 */
export class HeldLease {
  readonly #place: HeldLeasePlace;
  #record: LeaseRecord;
  #deadline: number;
  /** How long the latest lease writes took to answer, in ms (newest last). */
  readonly #latencies: number[];
  readonly #lost = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  /** Removals of superseded generations still running (awaited by `release`). */
  readonly #pruning = new Set<Promise<void>>();
  #released = false;
  readonly #tookOver: LeaseRecord | undefined;

  /**
   * `deadline` is when the record lapses on this host's clock (the write's start plus `ttlMs`);
   * `latencyMs`, how long that write took to answer; `tookOver`, the lapsed record this lease
   * replaced, when it was taken over.
   */
  constructor(
    place: HeldLeasePlace,
    record: LeaseRecord,
    deadline: number,
    latencyMs = 0,
    tookOver?: LeaseRecord,
  ) {
    this.#place = place;
    this.#record = record;
    this.#deadline = deadline;
    this.#tookOver = tookOver;
    this.#latencies = [latencyMs];
    this.#watchDeadline();
    this.#schedule();
  }

  /** The current generation's record. */
  get record(): LeaseRecord {
    return this.#record;
  }

  /**
   * The newest record of the lapsed lease this one took over (its holder died, or gave up), read
   * from the store just before: untrusted, as everything read back from a store. `undefined` when
   * the lease was free.
   */
  get tookOver(): LeaseRecord | undefined {
    return this.#tookOver;
  }

  /** Fires (with a `CONFLICT` reason) when the lease was taken over or could not be renewed. */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  /** Stops renewing and removes the lease blob (unless it was lost: then it is someone else's). */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadlineTimer);
    await this.#renewing;
    await Promise.all(this.#pruning);
    if (this.#lost.signal.aborted) return;
    const { store, container, key } = this.#place;
    await store.removeBlob(container, leaseBlobName(key, this.#record.generation)).catch((error: unknown) => {
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

  /** Schedules the next renewal: `renewMs` after the current generation's write started, or earlier on a slow store. */
  #schedule(retry = false): void {
    if (this.#released || this.#lost.signal.aborted) return;
    const { ttlMs, renewMs } = this.#place.options;
    const now = Date.now();
    const due = retry
      ? now + Math.min(renewMs, Math.max(0, this.#deadline - now - this.#slowest) / 4)
      : Math.min(this.#deadline - ttlMs + renewMs, this.#deadline - 2 * this.#slowest);
    this.#timer = setTimeout(
      () => {
        this.#renewing = this.#renew().then(
          (tryAgain) => {
            this.#renewing = undefined;
            this.#schedule(tryAgain);
          },
          () => {
            this.#renewing = undefined;
            this.#schedule(true);
          },
        );
      },
      Math.max(0, due - now),
    );
    this.#timer.unref();
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

  /** One renewal; `true` when it failed and should be tried again soon. */
  async #renew(): Promise<boolean> {
    const { store, container, key, options } = this.#place;
    const started = Date.now();
    const next: LeaseRecord = {
      ...this.#record,
      generation: this.#record.generation + 1,
      expiresAt: new Date(started + options.ttlMs).toISOString(),
    };
    const name = leaseBlobName(key, next.generation);
    try {
      await store.putBlob(container, name, JSON.stringify(next), {
        contentType: 'application/json',
        ifNoneMatch: '*',
      });
    } catch (error) {
      this.#latencies.push(Date.now() - started);
      this.#latencies.splice(0, this.#latencies.length - LATENCY_WINDOW);
      if (VmkitError.is(error, 'CONFLICT')) {
        this.#lose(`the build lease of image ${next.imageId} was taken over by another process`);
      } else if (Date.now() + this.#slowest >= this.#deadline) {
        this.#lose(
          `the build lease of image ${next.imageId} could not be renewed in time (${String(error)})`,
        );
      } else {
        this.#place.logger.warn('could not renew a build lease; will retry', {
          imageId: next.imageId,
          error: String(error),
        });
        return true;
      }
      return false;
    }
    this.#latencies.push(Date.now() - started);
    this.#latencies.splice(0, this.#latencies.length - LATENCY_WINDOW);
    if (this.#lost.signal.aborted || Date.now() >= this.#deadline) {
      // Renewed too late: another process may already have judged the lease lapsed.
      await store.removeBlob(container, name).catch(() => {});
      this.#lose(`the build lease of image ${next.imageId} lapsed before it was renewed`);
      return false;
    }
    const previous = this.#record.generation;
    this.#record = next;
    this.#deadline = started + options.ttlMs;
    this.#watchDeadline();
    const pruning = store
      .removeBlob(container, leaseBlobName(key, previous))
      .catch(() => {})
      .finally(() => this.#pruning.delete(pruning));
    this.#pruning.add(pruning);
    return false;
  }

  #lose(message: string): void {
    if (this.#lost.signal.aborted) return;
    clearTimeout(this.#deadlineTimer);
    this.#place.logger.warn('lost a build lease; the build is aborted', {
      imageId: this.#record.imageId,
      reason: message,
    });
    this.#lost.abort(new VmkitError('CONFLICT', message, { details: { imageId: this.#record.imageId } }));
  }
}
