import { VmkitError } from '../errors/vmkit-error.js';
import { specHash } from '../util/canonical-json.js';
import type { Validators } from '../validation/load-validators.js';
import { type MasterRecord, masterBlobName } from './master-record.js';
import type { SnapshotEntry } from './master-snapshot.js';

/** Validates untrusted JSON as the record stored under `name`. */
export function validateRecord(
  checks: Validators,
  name: string,
  prefix: string,
  json: unknown,
): MasterRecord {
  const record = checks.checkMasterRecord(json, name);
  if (`${prefix}${masterBlobName(record.imageId)}` !== name) {
    throw new VmkitError(
      'CORRUPT',
      `${name}: holds image ${JSON.stringify(record.imageId)}, not the one its name says`,
    );
  }
  if (specHash(record.spec) !== record.specHash || record.spec.id !== record.imageId) {
    throw new VmkitError('CORRUPT', `${name}: spec does not match its hash or image id`);
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
): MasterRecord[] | undefined {
  const records: MasterRecord[] = [];
  try {
    for (const [name, entry] of entries) {
      records.push(validateRecord(checks, name, prefix, entry.record));
    }
  } catch {
    return undefined;
  }
  return records;
}
