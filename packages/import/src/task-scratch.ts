import { constants } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { VmkitError } from '@vmkit/core/spi';
import type { HostIdentity } from './host-identity.js';
import { isTaskId, type TaskRecord } from './task-record.js';

/** The file in a task's scratch folder naming its converter: `<pid> <boot id>`, written by this host only. */
const CONVERTER_MARK = '.converter';

/** The folder holding the tasks' scratch folders. */
export function tasksFolder(scratchDir: string): string {
  return join(resolve(scratchDir), 'tasks');
}

/**
 * The scratch folder of task `id`, `<scratchDir>/tasks/<id>`: refused (`CORRUPT`) unless `id` is
 * one vmkit issues and the resolved path lies directly inside the tasks folder, so that no record
 * can aim a removal anywhere else.
 */
export function taskScratchPath(scratchDir: string, id: string): string {
  const tasks = tasksFolder(scratchDir);
  const path = resolve(tasks, id);
  if (!isTaskId(id) || dirname(path) !== tasks)
    throw new VmkitError('CORRUPT', `task id ${JSON.stringify(id)} would name a folder outside ${tasks}`, {
      details: { field: 'id', rule: 'scratch-inside' },
    });
  return path;
}

/** Notes in the task's scratch folder (private to this host) that `pid` is its converter, in boot `bootId`. */
export async function markConverter(scratch: string, pid: number, bootId: string): Promise<void> {
  await writeFile(join(scratch, CONVERTER_MARK), `${pid} ${bootId}\n`, { mode: 0o600 });
}

/** Why a converter of a dead task may not be killed; `undefined` when it may. */
async function whyNotKill(
  scratch: string,
  record: TaskRecord,
  host: HostIdentity,
): Promise<string | undefined> {
  const pid = record.converterPid;
  if (pid === undefined || pid <= 1 || pid === host.pid) return 'no converter pid';
  if (!host.bootId || record.hostId !== host.hostId || record.bootId !== host.bootId)
    return 'the pid was not recorded by this host in this boot';
  const mark = await readMark(scratch);
  if (mark !== `${pid} ${host.bootId}`) return 'the scratch folder of this host does not name that pid';
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  if (!argv.some((arg) => arg.startsWith(`${scratch}/`)))
    return "the process's command line no longer names the task's scratch folder";
  return undefined;
}

async function readMark(scratch: string): Promise<string | undefined> {
  try {
    const handle = await open(join(scratch, CONVERTER_MARK), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return (await handle.readFile('utf8')).trim();
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * Ends the converter a dead task left running, only when this host recorded its pid in this boot
 * (in the record and in the task's own scratch folder) and its command line still names that
 * folder, so a reused pid or a pid planted in a record is left alone.
 *
 * @returns why nothing was killed, or `undefined` when the converter was.
 */
export async function killOrphanConverter(
  scratch: string,
  record: TaskRecord,
  host: HostIdentity,
): Promise<string | undefined> {
  const why = await whyNotKill(scratch, record, host);
  if (why !== undefined) return why;
  try {
    process.kill(record.converterPid as number, 'SIGKILL');
  } catch {
    // Already gone.
  }
  return undefined;
}
