import { readFile } from 'node:fs/promises';
import type { AnyTask, ImportService } from '@vmkit/import';
import { Command } from 'commander';
import type { CliIo, CommandContext } from '../runtime/command-context.js';
import { defineAction, withJsonAndExample } from '../runtime/define-action.js';

/** Every task of the store, imports first, oldest first; or the one named. */
async function tasksOf(service: ImportService, id?: string): Promise<AnyTask[]> {
  if (id?.startsWith('export-')) return service.describeExportImageTasks({ exportImageTaskIds: [id] });
  if (id?.startsWith('import-ami-')) return service.describeImportImageTasks({ importTaskIds: [id] });
  if (id) return service.describeConversionTasks({ conversionTaskIds: [id] });
  return [
    ...(await service.describeImportImageTasks()),
    ...(await service.describeConversionTasks()),
    ...(await service.describeExportImageTasks()),
  ];
}

const idOf = (t: AnyTask) =>
  'importTaskId' in t ? t.importTaskId : 'conversionTaskId' in t ? t.conversionTaskId : t.exportImageTaskId;

/** One line of a task: id, status, progress, message, and its image. */
function line(t: AnyTask): string {
  const image = 'imageId' in t && t.imageId ? `  image ${t.imageId}` : '';
  return `${idOf(t)}  ${t.status}  ${t.progress}%  ${t.statusMessage}${image}`;
}

async function withRecords<T>(ctx: CommandContext, work: (service: ImportService) => Promise<T>) {
  const { openImportRecords } = await import('../runtime/open-imports.js');
  const records = await openImportRecords(await ctx.settings(), ctx.io.cwd);
  try {
    return await work(records.service);
  } finally {
    await records.close();
  }
}

/** `vmkit import status [ID]`: the store's import and export tasks, or one. */
export function importStatusCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('status')
      .description(
        'show the import and export tasks of the store (all, or the one named), also while one runs',
      )
      .argument('[id]', 'a task id (import-ami-…, import-vol-…, import-i-… or export-ami-…)'),
    'vmkit import status import-ami-0123456789abcdef0',
  );
  return defineAction(command, io, async (ctx, id: string | undefined) => {
    const tasks = await withRecords(ctx, (service) => tasksOf(service, id));
    if (ctx.json) return ctx.printJson(id ? tasks[0] : tasks);
    for (const t of tasks) ctx.print(line(t));
  });
}

/** Whether `pid` runs a vmkit import or export (the process the store's lock names). */
async function isImportProcess(pid: number): Promise<boolean> {
  const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  return (
    args.some((a) => a.endsWith('vmkit') || a.endsWith('vmkit.js')) &&
    args.some((a) => a === 'import' || a === 'export')
  );
}

/**
 * `vmkit import cancel ID`: a task still running is cancelled by interrupting the vmkit process
 * that runs it (the one the store's lock names: it cancels the task, its converter ends, its
 * scratch and partial output are removed); then the task is shown as it ended.
 */
export function importCancelCommand(io: CliIo): Command {
  const command = withJsonAndExample(
    new Command('cancel')
      .description('cancel a running import or export task (the vmkit process running it is interrupted)')
      .argument('<id>', 'the task id'),
    'vmkit import cancel import-ami-0123456789abcdef0',
  );
  return defineAction(command, io, async (ctx, id: string) => {
    const [{ VmkitError }, { importLockOwner, importPlaces }] = await Promise.all([
      import('@vmkit/core'),
      import('../runtime/open-imports.js'),
    ]);
    const [before] = await withRecords(ctx, (service) => tasksOf(service, id));
    if (!before) throw new VmkitError('NOT_FOUND', `no task ${id}`, { details: { taskId: id } });
    if (before.status === 'completed')
      throw new VmkitError('CONFLICT', `task ${id} is completed and cannot be cancelled`, {
        details: { taskId: id },
      });
    const live = ['active', 'cancelling', 'deleting'].includes(before.status);
    const pid = live
      ? await importLockOwner(importPlaces(await ctx.settings(), undefined, ctx.io.cwd))
      : undefined;
    if (live && (pid === undefined || !(await isImportProcess(pid))))
      throw new VmkitError(
        'CONFLICT',
        `task ${id} is ${before.status} but no vmkit import process on this store runs it`,
        {
          details: { taskId: id },
        },
      );
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      const end = Date.now() + 60_000;
      while (await importLockOwner(importPlaces(await ctx.settings(), undefined, ctx.io.cwd))) {
        if (Date.now() > end)
          throw new VmkitError('TIMEOUT', `the vmkit process ${pid} running ${id} did not end within 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const [after] = await withRecords(ctx, (service) => tasksOf(service, id));
    if (ctx.json) return ctx.printJson(after);
    ctx.print(line(after!));
  });
}
