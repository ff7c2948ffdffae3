import type { ProgressListener } from '@vmkit/core';
import type { AnyTask, ImportService, TaskViewBase } from '@vmkit/import';

/** How often a followed task's progress is read. */
const POLL_MS = 250;

/** The task's current view, whichever kind it is. */
async function describe(service: ImportService, id: string): Promise<TaskViewBase | undefined> {
  if (id.startsWith('export-'))
    return (await service.describeExportImageTasks({ exportImageTaskIds: [id] }))[0];
  return (await service.describeImportImageTasks({ importTaskIds: [id] }))[0];
}

/**
 * Waits for a task to end, reporting its `progress` and `statusMessage` as progress events;
 * when `signal` fires, the task is cancelled (its converter ends, its scratch and any output it
 * delivered are removed).
 */
export async function followTask(
  service: ImportService,
  id: string,
  options: { signal: AbortSignal; onProgress: ProgressListener },
): Promise<AnyTask> {
  const report = async () => {
    const task = await describe(service, id).catch(() => undefined);
    if (task)
      options.onProgress({
        phase: 'transfer',
        imageId: id,
        fraction: Number(task.progress) / 100,
        message: task.statusMessage,
      });
  };
  const timer = setInterval(() => void report(), POLL_MS);
  const onAbort = () => {
    const cancelling = id.startsWith('import-')
      ? service.cancelImportTask(id, 'interrupted')
      : service.cancelExportTask(id, 'interrupted');
    void cancelling.catch(() => undefined);
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const task = await service.waitForTask(id);
    await report();
    return task;
  } finally {
    clearInterval(timer);
    options.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Throws when a task did not complete: `ABORTED` when cancelled, and for a failure the kind its
 * reason names (a disk breaking a safety rule: `INVALID_ARGUMENT`, or `CORRUPT` for truncated or
 * malformed headers; anything else: `PROVIDER`).
 */
export async function assertCompleted(task: AnyTask): Promise<void> {
  if (task.status === 'completed') return;
  const { VmkitError } = await import('@vmkit/core');
  const reason = task.failureReason ?? task.statusMessage;
  if (task.status === 'cancelled') throw new VmkitError('ABORTED', `task cancelled: ${reason}`);
  const code = /breaks rule (truncated|malformed|read-budget)\b/.test(reason)
    ? 'CORRUPT'
    : /breaks rule /.test(reason)
      ? 'INVALID_ARGUMENT'
      : 'PROVIDER';
  throw new VmkitError(code, `task failed: ${reason}`, { details: { status: task.status } });
}
