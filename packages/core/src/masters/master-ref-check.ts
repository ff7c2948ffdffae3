import { VmkitError } from '../errors/vmkit-error.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { MasterRef } from '../spi/master-build.js';
import { masterRefError } from '../spi/master-ref-error.js';
import type { MasterRecord } from './master-record.js';

/** A provider's check of a stored master reference (`HypervisorProvider.checkMasterRef`). */
export type MasterRefCheck = (ref: MasterRef, spec: MasterSpec | undefined) => void;

/**
 * Checks every master reference of a record read from the store: core's own rule first (the id
 * carries a master name core issued for the record's image, see `newMasterName`), then the
 * provider's. The master is checked with the record's spec, each retired one without (it was built
 * from an earlier spec). Throws `CORRUPT` naming the field: `master.…` or `retired[i].…`.
 */
export function checkRecordRefs(record: MasterRecord, providerCheck: MasterRefCheck | undefined): void {
  const issued = issuedNamePattern(record.imageId);
  const refs: Array<[string, MasterRef, MasterSpec | undefined]> = [
    ['master', record.master, record.spec],
    ...(record.retired ?? []).map((ref, i): [string, MasterRef, undefined] => [
      `retired[${i}]`,
      ref,
      undefined,
    ]),
  ];
  for (const [field, ref, spec] of refs) {
    if (!issued.test(ref.id))
      throw masterRefError(
        `${field}.id`,
        `must carry a master name vmkit issued for image ${record.imageId} (vmkit-${record.imageId}-<8 hex>-<4 hex>)`,
      );
    if (!providerCheck) continue;
    try {
      providerCheck(ref, spec);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Providers name fields from `master.`; a retired reference's are named from its index.
      const named = message.startsWith('master.')
        ? `${field}${message.slice('master'.length)}`
        : `${field}: ${message}`;
      throw new VmkitError('CORRUPT', named, { cause: error, details: { field } });
    }
  }
}

/** Core's master names for `imageId` (`vmkit-<image>-<8 hex>-<4 hex>`), anywhere in a provider's id. */
function issuedNamePattern(imageId: string): RegExp {
  const id = imageId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![a-z0-9._])vmkit-${id}-[0-9a-f]{8}-[0-9a-f]{4}(?![a-z0-9_-])`);
}
