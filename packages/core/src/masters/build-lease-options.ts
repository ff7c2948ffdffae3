import { invalidArgument } from '../errors/vmkit-error.js';
import { integerOption } from '../util/integer-option.js';

/** How long a build lease lasts unless renewed, by default (60 s). */
export const DEFAULT_BUILD_LEASE_TTL_MS = 60_000;
/** How often the holder renews its build lease, by default (15 s: a quarter of the TTL). */
export const DEFAULT_BUILD_LEASE_RENEW_MS = 15_000;
/** Longest pause between two looks of a process waiting for another's build (2 s). */
export const BUILD_LEASE_MAX_POLL_MS = 2_000;

/** Options of the cross-process build lease (`ComputeServiceOptions.buildLease`). */
export interface BuildLeaseOptions {
  /**
   * How long a lease lasts unless renewed, in ms (1000 to 3,600,000; default
   * {@link DEFAULT_BUILD_LEASE_TTL_MS}). A holder that died is taken over this long after its
   * last renewal. Hosts sharing a store must agree on the time to well within this.
   */
  readonly ttlMs?: number;
  /**
   * How often the holder renews, in ms (at least 100 and at most a third of `ttlMs`; default
   * {@link DEFAULT_BUILD_LEASE_RENEW_MS}, or a quarter of `ttlMs` when only that is given).
   */
  readonly renewMs?: number;
}

/** {@link BuildLeaseOptions} checked and completed. */
export interface ResolvedBuildLeaseOptions {
  readonly ttlMs: number;
  readonly renewMs: number;
}

/**
 * Checks the lease options, naming the bad one (`buildLease.ttlMs`, `buildLease.renewMs`; `field`
 * names the option when lease options are given elsewhere, e.g. `ephemeralNodes.lease`).
 */
export function resolveBuildLeaseOptions(
  options: BuildLeaseOptions | undefined,
  field = 'buildLease',
): ResolvedBuildLeaseOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalidArgument(field, 'must be an object');
  }
  const ttlMs = integerOption(`${field}.ttlMs`, options?.ttlMs, DEFAULT_BUILD_LEASE_TTL_MS, {
    min: 1000,
    max: 3_600_000,
  });
  const fallback = options?.ttlMs === undefined ? DEFAULT_BUILD_LEASE_RENEW_MS : Math.floor(ttlMs / 4);
  const renewMs = integerOption(`${field}.renewMs`, options?.renewMs, fallback, { min: 100 });
  if (renewMs * 3 > ttlMs) {
    throw invalidArgument(
      `${field}.renewMs`,
      `must be at most a third of ${field}.ttlMs (${ttlMs}), so one lost renewal never loses the lease (got ${renewMs})`,
    );
  }
  return Object.freeze({ ttlMs, renewMs });
}

/**
 * The folder of an image's build lease in the lease container. The one place the key is made:
 * masters shared fleet-wide point `namespace` at the shared catalogue, so every host that could
 * build the same master meets at the same lease.
 */
export function buildLeaseKey(namespace: string, imageId: string): string {
  return `${namespace}/${imageId}/`;
}

/** The blob name of one generation of a lease (zero-padded so name order is generation order). */
export function leaseBlobName(key: string, generation: number): string {
  return `${key}${String(generation).padStart(12, '0')}.json`;
}

/** The generation a lease blob name holds, or `undefined` for a name that is not one. */
export function leaseGeneration(key: string, name: string): number | undefined {
  const match = /^(\d{12})\.json$/.exec(name.slice(key.length));
  return name.startsWith(key) && match ? Number(match[1]) : undefined;
}
