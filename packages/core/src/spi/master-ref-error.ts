import { VmkitError } from '../errors/vmkit-error.js';

/**
 * The error of a failed master-reference check (`HypervisorProvider.checkMasterRef`): `CORRUPT`,
 * the message `<field> <rule>`, with the field (e.g. `master.data.volume`) and the rule in
 * `details`. Core quarantines the record with this message as the reason.
 */
export function masterRefError(field: string, rule: string): VmkitError {
  return new VmkitError('CORRUPT', `${field} ${rule}`, { details: { field, rule } });
}
