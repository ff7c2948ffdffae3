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

/**
 * A build lease this process holds. It renews itself every `renewMs` by writing the next
 * generation create-only: a conflict means another process took the lease over, and `lost` fires.
 * A holder that could not renew before its own deadline (store unreachable) gives the lease up
 * too, so two builders never both believe they hold it.
 */
export class HeldLease {
  readonly #place: HeldLeasePlace;
  #record: LeaseRecord;
  #deadline: number;
  readonly #lost = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #released = false;

  constructor(place: HeldLeasePlace, record: LeaseRecord, deadline: number) {
    this.#place = place;
    this.#record = record;
    this.#deadline = deadline;
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

  /** Stops renewing and removes the lease blob (unless it was lost: then it is someone else's). */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#timer);
    await this.#renewing;
    if (this.#lost.signal.aborted) return;
    const { store, container, key } = this.#place;
    await store.removeBlob(container, leaseBlobName(key, this.#record.generation)).catch((error: unknown) => {
      this.#place.logger.warn('could not remove a build lease; it lapses on its own', {
        imageId: this.#record.imageId,
        error: String(error),
      });
    });
  }

  #schedule(): void {
    if (this.#released || this.#lost.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#renewing = this.#renew().finally(() => {
        this.#renewing = undefined;
        this.#schedule();
      });
    }, this.#place.options.renewMs);
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    const { store, container, key, options } = this.#place;
    const started = Date.now();
    const next: LeaseRecord = {
      ...this.#record,
      generation: this.#record.generation + 1,
      expiresAt: new Date(started + options.ttlMs).toISOString(),
    };
    try {
      await store.putBlob(container, leaseBlobName(key, next.generation), JSON.stringify(next), {
        contentType: 'application/json',
        ifNoneMatch: '*',
      });
    } catch (error) {
      if (VmkitError.is(error, 'CONFLICT')) {
        this.#lose(`the build lease of image ${next.imageId} was taken over by another process`);
      } else if (Date.now() + options.renewMs >= this.#deadline) {
        this.#lose(
          `the build lease of image ${next.imageId} could not be renewed in time (${String(error)})`,
        );
      } else {
        this.#place.logger.warn('could not renew a build lease; will retry', {
          imageId: next.imageId,
          error: String(error),
        });
      }
      return;
    }
    if (Date.now() >= this.#deadline) {
      // Renewed too late: another process may already have judged the lease lapsed.
      await store.removeBlob(container, leaseBlobName(key, next.generation)).catch(() => {});
      this.#lose(`the build lease of image ${next.imageId} lapsed before it was renewed`);
      return;
    }
    const previous = this.#record.generation;
    this.#record = next;
    this.#deadline = started + options.ttlMs;
    await store.removeBlob(container, leaseBlobName(key, previous)).catch(() => {});
  }

  #lose(message: string): void {
    this.#place.logger.warn('lost a build lease; the build is aborted', { imageId: this.#record.imageId });
    this.#lost.abort(new VmkitError('CONFLICT', message, { details: { imageId: this.#record.imageId } }));
  }
}
