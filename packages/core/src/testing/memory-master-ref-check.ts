import type { MasterSpec } from '../model/master-spec.js';
import type { MasterRef } from '../spi/master-build.js';
import { masterRefError } from '../spi/master-ref-error.js';

/**
 * The memory provider's `checkMasterRef`: what its builds and imports make, `{ id, data: { disk:
 * 'master:<id>' } }`, and nothing else. Its masters are keyed by id alone, so the id is free.
 */
export function checkMemoryMasterRef(ref: MasterRef, _spec: MasterSpec | undefined): void {
  const data = ref.data;
  if (typeof data !== 'object' || data === null) throw masterRefError('master.data', 'must be an object');
  for (const key of Object.keys(data)) {
    if (key !== 'disk') throw masterRefError(`master.data.${key}`, 'is not a field of memory masters');
  }
  if (data.disk !== `master:${ref.id}`)
    throw masterRefError('master.data.disk', `must be the master's own disk, master:${ref.id}`);
}
