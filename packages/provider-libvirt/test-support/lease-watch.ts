// Reads the leases a compute service keeps in its store (build leases in `<container>-leases`,
// ephemeral-node owner leases in `<container>-owners`) the way another process would, so a test
// can wait for a dead holder's lease to lapse as the store shows it, not for a fixed time.
import { setTimeout as sleep } from 'node:timers/promises';
import { type BlobStore, listAll } from '@vmkit/core/blobstore';

/** The build leases' container of a compute service on the default container. */
export const BUILD_LEASES = 'vmkit-images-leases';
/** The ephemeral-node owner leases' container of a compute service on the default container. */
export const OWNER_LEASES = 'vmkit-images-owners';

/** What a test reads of a lease record. */
export interface SeenLease {
  /** The blob holding the newest generation. */
  readonly name: string;
  /** The image (or, for an owner lease, the owner id) the lease is for. */
  readonly imageId: string;
  readonly generation: number;
  readonly expiresAt: string;
}

/** The newest generation of each lease in `container`, one per lease folder, by folder name. */
export async function newestLeases(store: BlobStore, container: string): Promise<SeenLease[]> {
  const newest = new Map<string, string>();
  for await (const { name } of listAll(store, container)) {
    const folder = name.slice(0, name.lastIndexOf('/'));
    // Generations are zero-padded: the greatest name is the newest.
    if ((newest.get(folder) ?? '') < name) newest.set(folder, name);
  }
  const seen: SeenLease[] = [];
  for (const name of [...newest.values()].sort()) {
    const blob = await store.getBlob(container, name);
    if (!blob) continue; // removed while listed
    const record = JSON.parse(await blob.text()) as Omit<SeenLease, 'name'>;
    seen.push({ name, imageId: record.imageId, generation: record.generation, expiresAt: record.expiresAt });
  }
  return seen;
}

/** Whether the lease had lapsed at `now` (as vmkit judges it: its expiry is not in the future). */
export function lapsed(lease: SeenLease, now = Date.now()): boolean {
  return Date.parse(lease.expiresAt) <= now;
}

/** What {@link watchLease} waits for: a verdict on the newest record, and how long to pause if not yet. */
interface LeaseWait {
  readonly done: (lease: SeenLease, now: number) => boolean;
  readonly pauseMs: (lease: SeenLease, now: number) => number;
  readonly failure: string;
}

/** Reads the newest record of the lease of `imageId` until `wait.done` holds or `ms` passed. */
async function watchLease(
  store: BlobStore,
  container: string,
  imageId: string,
  ms: number,
  wait: LeaseWait,
): Promise<SeenLease> {
  const end = Date.now() + ms;
  for (;;) {
    const lease = (await newestLeases(store, container)).find((l) => l.imageId === imageId);
    if (!lease) throw new Error(`no lease of ${imageId} in ${container}`);
    const now = Date.now();
    if (wait.done(lease, now)) return lease;
    if (now >= end) throw new Error(`the lease of ${imageId} in ${container} ${wait.failure} after ${ms} ms`);
    await sleep(Math.max(1, Math.min(wait.pauseMs(lease, now), end - now + 1)));
  }
}

/**
 * Waits until the store shows the lease of `imageId` in `container` lapsed: sleeps until its
 * newest record's expiry, then reads the store again (a holder still alive would have renewed).
 * Throws when the lease is not in the store, or still renewed after `ms`.
 *
 * @returns the newest record, lapsed.
 */
export function untilLapsed(
  store: BlobStore,
  container: string,
  imageId: string,
  ms = 60_000,
): Promise<SeenLease> {
  return watchLease(store, container, imageId, ms, {
    done: (lease, now) => lapsed(lease, now),
    pauseMs: (lease, now) => Date.parse(lease.expiresAt) - now + 1,
    failure: 'was still renewed',
  });
}

/**
 * Waits until the store shows the lease of `seen` renewed past it: a newer generation, and the
 * expiry of `seen` passed, so a reader now judges the holder by its renewals alone.
 *
 * @returns the newest record then.
 */
export function untilRenewedPast(
  store: BlobStore,
  container: string,
  seen: SeenLease,
  ms = 60_000,
): Promise<SeenLease> {
  return watchLease(store, container, seen.imageId, ms, {
    done: (lease, now) => lease.generation > seen.generation && lapsed(seen, now),
    pauseMs: (_, now) => Math.min(Date.parse(seen.expiresAt) - now + 1, 50),
    failure: `was not renewed past ${seen.expiresAt}`,
  });
}
