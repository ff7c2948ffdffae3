import { VmkitError } from '../errors/vmkit-error.js';

/** Who holds a build lease: enough to find the process, and a random id to tell restarts apart. */
export interface LeaseHolder {
  /** Host name of the holder's machine. */
  readonly hostname: string;
  /** Process id of the holder on that machine. */
  readonly pid: number;
  /** Random id of the holder (one per compute service). */
  readonly id: string;
}

/** The content of one generation of a build lease blob. */
export interface LeaseRecord {
  /** Always 1. */
  readonly schemaVersion: 1;
  /** The image being built. */
  readonly imageId: string;
  /** Hash of the spec being built. */
  readonly specHash: string;
  /** The master name core chose for the build: its artefacts carry it. */
  readonly masterName: string;
  /** Who builds. */
  readonly holder: LeaseHolder;
  /** The generation: each renewal or takeover writes the next one, create-only. */
  readonly generation: number;
  /** When the lease lapses unless renewed (ISO 8601, the holder's clock). */
  readonly expiresAt: string;
}

/** Largest lease blob read: a record is a few hundred bytes; anything huge is hostile. */
export const MAX_LEASE_BYTES = 16 * 1024;

/** Whether a lease has lapsed at `now` (milliseconds since the epoch). */
export function leaseExpired(record: LeaseRecord, now = Date.now()): boolean {
  return Date.parse(record.expiresAt) <= now;
}

/** One line naming the holder, for progress and logs. */
export function describeHolder(record: LeaseRecord): string {
  const { hostname, pid, id } = record.holder;
  return `${hostname} pid ${pid} (${id}) building ${record.masterName}`;
}

/** Parses untrusted lease JSON stored as `name`; `CORRUPT` naming the bad field otherwise. */
export function parseLeaseRecord(name: string, text: string): LeaseRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new VmkitError('CORRUPT', `${name}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const bad = (field: string, rule: string) => new VmkitError('CORRUPT', `${name}: ${field} ${rule}`);
  if (typeof json !== 'object' || json === null) throw bad('lease', 'must be an object');
  const r = json as Record<string, unknown>;
  const holder = r.holder as Record<string, unknown> | undefined;
  if (r.schemaVersion !== 1) throw bad('schemaVersion', 'must be 1');
  for (const field of ['imageId', 'specHash', 'masterName', 'expiresAt'] as const) {
    const value = r[field];
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
      throw bad(field, 'must be a string of 1-256 characters');
    }
  }
  if (!Number.isFinite(Date.parse(r.expiresAt as string))) throw bad('expiresAt', 'must be an ISO date');
  if (!Number.isSafeInteger(r.generation) || (r.generation as number) < 1) {
    throw bad('generation', 'must be a positive integer');
  }
  if (typeof holder !== 'object' || holder === null) throw bad('holder', 'must be an object');
  if (typeof holder.hostname !== 'string' || holder.hostname.length > 256) {
    throw bad('holder.hostname', 'must be a string of at most 256 characters');
  }
  if (!Number.isSafeInteger(holder.pid)) throw bad('holder.pid', 'must be an integer');
  if (typeof holder.id !== 'string' || holder.id.length > 64) {
    throw bad('holder.id', 'must be a string of at most 64 characters');
  }
  return json as LeaseRecord;
}
