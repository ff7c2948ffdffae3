import { VmkitError } from '../errors/vmkit-error.js';
import type { RecordSigner } from './record-signing.js';

/** The version of the shared-master record this code writes and reads. */
export const SHARED_MASTER_SCHEMA_VERSION = 1;

/** Disk formats a shared master may have: what every provider's import understands. */
export const SHARED_DISK_FORMATS = ['qcow2', 'raw'] as const;

/**
 * The JSON record of a master disk published for the fleet, `masters/<specHash>.json` in the
 * shared container. It names the disk blob and what a download must match.
 */
export interface SharedMasterRecord {
  /** Always {@link SHARED_MASTER_SCHEMA_VERSION}. */
  readonly schemaVersion: 1;
  /** Hash of the canonical spec the disk was built from: the key of the record. */
  readonly specHash: string;
  /** The image id of the publisher (informational: the spec hash is what matches). */
  readonly imageId: string;
  /** The disk blob's name, `masters/<specHash>/disk-<16 hex of its sha256>.<format>`. */
  readonly blob: string;
  /** The disk's format. */
  readonly format: (typeof SHARED_DISK_FORMATS)[number];
  /** How it is compressed: `qcow2` (compressed clusters) or `none`. */
  readonly compression: 'qcow2' | 'none';
  /** SHA-256 of the disk blob, hex. */
  readonly sha256: string;
  /** Size of the disk blob in bytes. */
  readonly size: number;
  /** Identity of the provider (host) that published it. */
  readonly publishedBy: string;
  /** When it was published (ISO 8601). */
  readonly publishedAt: string;
  /** With `recordSigning`: the record's signature made with the fleet's key (see `RecordSigner`). */
  readonly signature?: string;
}

/** Name of the record of a spec hash. */
export function sharedRecordName(specHash: string): string {
  return `masters/${specHash}.json`;
}

/** Name of a disk blob: content-addressed, so two publishers never overwrite each other's bytes. */
export function sharedDiskName(specHash: string, sha256: string, format: string): string {
  return `masters/${specHash}/disk-${sha256.slice(0, 16)}.${format}`;
}

/** A record is a few hundred bytes; anything larger is refused unread. */
export const MAX_SHARED_RECORD_BYTES = 64 * 1024;

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Checks an untrusted record read from the store against the spec hash it was looked up by: every
 * field typed, the blob name the one its own digest gives (no other path), the size within
 * `maxBytes`; with a `signer`, signed with the fleet's key. Throws `CORRUPT` naming the field and
 * the rule.
 */
export function parseSharedRecord(
  text: string,
  specHash: string,
  maxBytes: number,
  signer?: RecordSigner,
): SharedMasterRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw corrupt('record', 'must be JSON', error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw corrupt('record', 'must be an object');
  signer?.verify(value, 'shared master record');
  const r = value as Record<string, unknown>;
  if (r.schemaVersion !== SHARED_MASTER_SCHEMA_VERSION)
    throw corrupt('schemaVersion', `must be ${SHARED_MASTER_SCHEMA_VERSION}`);
  if (r.specHash !== specHash) throw corrupt('specHash', `must be the key it was stored under (${specHash})`);
  for (const field of ['imageId', 'publishedBy', 'publishedAt'] as const) {
    const v = r[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > 1024)
      throw corrupt(field, 'must be a string of 1 to 1024 characters');
  }
  if (typeof r.sha256 !== 'string' || !HEX64.test(r.sha256))
    throw corrupt('sha256', 'must be a lower-case sha256 hex digest');
  if (!SHARED_DISK_FORMATS.includes(r.format as never))
    throw corrupt('format', `must be one of ${SHARED_DISK_FORMATS.join(', ')}`);
  if (r.compression !== 'qcow2' && r.compression !== 'none')
    throw corrupt('compression', "must be 'qcow2' or 'none'");
  if (r.blob !== sharedDiskName(specHash, r.sha256, r.format as string))
    throw corrupt('blob', 'must be the name its spec hash, digest and format give');
  if (typeof r.size !== 'number' || !Number.isSafeInteger(r.size) || r.size < 1 || r.size > maxBytes)
    throw corrupt('size', `must be an integer from 1 to ${maxBytes}`);
  return r as unknown as SharedMasterRecord;
}

function corrupt(field: string, rule: string, cause?: unknown): VmkitError {
  return new VmkitError('CORRUPT', `shared master record: ${field} ${rule}`, {
    details: { field },
    ...(cause ? { cause } : {}),
  });
}
