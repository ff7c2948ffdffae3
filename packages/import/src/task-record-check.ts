import { VmkitError } from '@vmkit/core/spi';
import { bootValidationProblem } from './boot-check.js';
import { ID_PREFIX, isTaskId, type TaskKind, type TaskRecord } from './task-record.js';

const STATUSES = new Set(['active', 'completed', 'cancelling', 'cancelled', 'deleting', 'deleted']);
/** Host and boot ids: what {@link hostIdentity} makes, with room for other hosts' names. */
const HOST_TOKEN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The blob name a task record is kept under. */
export function taskBlobName(id: string): string {
  return `tasks/${id}.json`;
}

/**
 * Checks an untrusted task record read from blob `name`: the fields the service acts on (its id,
 * which names a scratch folder; its owner and pids, which decide what a restart touches) must be
 * what vmkit itself writes; so must its boot check (`validate`) and `imageStore`. Throws `CORRUPT` naming the blob, the field and the rule otherwise.
 */
export function checkTaskRecord(name: string, value: unknown): TaskRecord {
  const bad = (field: string, rule: string) =>
    new VmkitError('CORRUPT', `import record ${name}: ${field} ${rule}`, { details: { field, rule } });
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad('record', 'must be an object');
  const r = value as Record<string, unknown>;
  if (typeof r.kind !== 'string' || !Object.hasOwn(ID_PREFIX, r.kind))
    throw bad('kind', `must be one of ${Object.keys(ID_PREFIX).join(', ')}`);
  if (!isTaskId(r.id, r.kind as TaskKind))
    throw bad('id', `must be an id vmkit issues: ${ID_PREFIX[r.kind as TaskKind]} and 17 hex digits`);
  if (name !== taskBlobName(r.id)) throw bad('id', `must match the blob's name (${taskBlobName(r.id)})`);
  if (typeof r.status !== 'string' || !STATUSES.has(r.status))
    throw bad('status', `must be one of ${[...STATUSES].join(', ')}`);
  for (const field of ['stage', 'createdAt', 'updatedAt'] as const)
    if (typeof r[field] !== 'string') throw bad(field, 'must be a string');
  if (typeof r.progress !== 'number') throw bad('progress', 'must be a number');
  for (const field of ['disks', 'snapshots'] as const)
    if (!Array.isArray(r[field])) throw bad(field, 'must be an array');
  for (const field of ['hostId', 'bootId'] as const)
    if (r[field] !== undefined && (typeof r[field] !== 'string' || !HOST_TOKEN.test(r[field])))
      throw bad(field, 'must be 1-128 letters, digits or ._:-');
  for (const field of ['converterPid', 'servicePid'] as const)
    if (r[field] !== undefined && (!Number.isSafeInteger(r[field]) || (r[field] as number) < 0))
      throw bad(field, 'must be a process id (a non-negative integer)');
  // A task that is resumed or read back runs its boot check from the record: the same rules as a request's.
  const problem = bootValidationProblem(r.validate);
  if (problem) throw bad(problem.field, problem.rule);
  if (r.imageStore !== undefined && r.imageStore !== 'local' && r.imageStore !== 'blob')
    throw bad('imageStore', "must be 'local' or 'blob'");
  return r as unknown as TaskRecord;
}
