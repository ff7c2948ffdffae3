import { VmkitError } from '../errors/vmkit-error.js';
import { specHash } from '../util/canonical-json.js';
import type { Validators } from '../validation/load-validators.js';
import { type MasterRecord, masterBlobName } from './master-record.js';
import { checkRecordRefs, type MasterRefCheck } from './master-ref-check.js';
import type { SnapshotEntry } from './master-snapshot.js';
import type { RecordSigner } from './record-signing.js';

/** What a record read from the store must pass beyond its envelope. */
export interface RecordTrust {
  /** The provider's check of each master reference (`HypervisorProvider.checkMasterRef`). */
  readonly checkRef?: MasterRefCheck | undefined;
  /** With `recordSigning`: a record must carry a valid signature made with the fleet's key. */
  readonly signer?: RecordSigner | undefined;
}

/**
 * Validates untrusted JSON as the record stored under `name`: its schema, its signature (with a
 * signing key), its name, spec hash and image id, then every master reference it names (core's
 * own naming rule and the provider's check). Throws `CORRUPT` or `INVALID_ARGUMENT` naming the rule.
 */
export function validateRecord(
  checks: Validators,
  name: string,
  prefix: string,
  json: unknown,
  trust: RecordTrust = {},
): MasterRecord {
  const record = checks.checkMasterRecord(json, name);
  // The signature covers the record as written, not as parsed.
  trust.signer?.verify(json, name);
  if (`${prefix}${masterBlobName(record.imageId)}` !== name) {
    throw new VmkitError(
      'CORRUPT',
      `${name}: holds image ${JSON.stringify(record.imageId)}, not the one its name says`,
    );
  }
  if (specHash(record.spec) !== record.specHash || record.spec.id !== record.imageId) {
    throw new VmkitError('CORRUPT', `${name}: spec does not match its hash or image id`);
  }
  try {
    checkRecordRefs(record, trust.checkRef);
  } catch (error) {
    throw new VmkitError('CORRUPT', `${name}: ${(error as Error).message}`, {
      cause: error,
      details: (error as VmkitError).details,
    });
  }
  return record;
}

/** Whether an error says a blob's content is bad (quarantined), not that the store failed. */
export function isBadContent(error: unknown): boolean {
  return VmkitError.is(error, 'CORRUPT') || VmkitError.is(error, 'INVALID_ARGUMENT');
}

/** Every snapshot entry validated as the record stored under its name, or `undefined` when one does not validate. */
export function trustedRecords(
  checks: Validators,
  prefix: string,
  entries: ReadonlyMap<string, SnapshotEntry>,
  trust: RecordTrust = {},
): MasterRecord[] | undefined {
  const records: MasterRecord[] = [];
  try {
    for (const [name, entry] of entries) {
      records.push(validateRecord(checks, name, prefix, entry.record, trust));
    }
  } catch {
    return undefined;
  }
  return records;
}
