import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isAbortError, VmkitError } from '@vmkit/core/spi';
import { type Admission, AdmissionQueue } from './admission-queue.js';
import type { ResolvedImportOptions } from './import-service-options.js';
import { LiveTask } from './live-task.js';
import { isLive, type TaskRecord } from './task-record.js';
import type { TaskRepository } from './task-repository.js';

/** Why a task was aborted. */
class StopReason extends Error {
  constructor(
    readonly kind: 'cancel' | 'close',
    message: string,
  ) {
    super(message);
  }
}

/** What a task needs before it runs, and its run. */
export interface TaskPlan {
  /** Scratch bytes to reserve before running (asked while the task is `pending`). */
  estimate(signal: AbortSignal): Promise<number>;
  run(task: LiveTask, scratch: string, admission: Admission): Promise<void>;
  /** Undoes partial outputs outside scratch (an image directory). */
  rollback?(): Promise<void>;
}

/**
 * Runs tasks through the admission queue, one scratch directory each, and keeps their records:
 * final states, cancellation, and the recovery of tasks a dead process left active.
 */
export class TaskEngine {
  readonly #options: ResolvedImportOptions;
  readonly #repo: TaskRepository;
  readonly #queue: AdmissionQueue;
  readonly #live = new Map<string, LiveTask>();
  readonly records = new Map<string, TaskRecord>();

  constructor(options: ResolvedImportOptions, repo: TaskRepository) {
    this.#options = options;
    this.#repo = repo;
    this.#queue = new AdmissionQueue(options.limits.tasks, options.limits.scratchBytes);
  }

  /** Scratch directory of a task. */
  scratchOf(id: string): string {
    return join(this.#options.scratchDir, 'tasks', id);
  }

  /**
   * Loads the records; a task still live in them belongs to a process that died: its converter
   * (if its command line still names the task's scratch) is killed, its scratch removed, and it
   * is marked failed with the reason.
   */
  async recover(records: TaskRecord[]): Promise<void> {
    for (const r of records) {
      this.records.set(r.id, r);
      if (!isLive(r)) continue;
      const scratch = this.scratchOf(r.id);
      if (r.converterPid) await killOrphan(r.converterPid, scratch);
      await rm(scratch, { recursive: true, force: true });
      const stage = r.stage;
      Object.assign(r, {
        status: 'deleted',
        stage: 'failed',
        failureReason: `the import service stopped while the task was ${stage}; its scratch files were removed`,
        converterPid: undefined,
        updatedAt: new Date().toISOString(),
      });
      await this.#repo.saveTask(r);
      this.#options.logger.warn('import task failed by a restart', { taskId: r.id, stage });
    }
    await rm(join(this.#options.scratchDir, 'tasks'), { recursive: true, force: true });
  }

  /** Starts a task: persisted as `pending` now, run when admitted. */
  async submit(record: TaskRecord, plan: TaskPlan): Promise<void> {
    const task = new LiveTask(record, this.#repo);
    this.records.set(record.id, record);
    this.#live.set(record.id, task);
    await task.save();
    task.done = this.#run(task, plan);
  }

  async #run(task: LiveTask, plan: TaskPlan): Promise<void> {
    const r = task.record;
    const scratch = this.scratchOf(r.id);
    let admission: Admission | undefined;
    try {
      const bytes = await plan.estimate(task.signal);
      admission = await this.#queue.admit(r.id, bytes, task.signal);
      await mkdir(scratch, { recursive: true });
      await plan.run(task, scratch, admission);
      Object.assign(r, { status: 'completed', stage: 'completed', progress: 100, detail: undefined });
    } catch (error) {
      const reason = task.signal.reason;
      const stopped = task.signal.aborted && reason instanceof StopReason;
      if (stopped && reason.kind === 'cancel') {
        Object.assign(r, { status: 'cancelled', stage: 'cancelled', failureReason: reason.message });
      } else {
        const message = stopped ? reason.message : errorMessage(error);
        Object.assign(r, { status: 'deleted', stage: 'failed', failureReason: message });
        if (!stopped) this.#options.logger.warn('import task failed', { taskId: r.id, error: message });
      }
      await plan.rollback?.().catch(() => {});
    } finally {
      r.converterPid = undefined;
      admission?.release();
      await rm(scratch, { recursive: true, force: true }).catch(() => {});
      this.#live.delete(r.id);
      await task
        .save()
        .catch((e) =>
          this.#options.logger.error('cannot save import task', { taskId: r.id, error: String(e) }),
        );
    }
  }

  /** Cancels a live task and waits until its converter ended and its scratch is gone. */
  async cancel(id: string, reason: string | undefined): Promise<TaskRecord> {
    const r = this.records.get(id);
    if (!r) throw new VmkitError('NOT_FOUND', `no task ${id}`, { details: { taskId: id } });
    if (r.status === 'completed')
      throw new VmkitError('CONFLICT', `task ${id} is completed and cannot be cancelled`, {
        details: { taskId: id },
      });
    const task = this.#live.get(id);
    if (!task) return r;
    if (r.status === 'active') {
      r.status = 'cancelling';
      await task.save();
      task.controller.abort(new StopReason('cancel', reason ?? 'cancelled by the user'));
    }
    await task.done;
    return r;
  }

  /** Resolves when the task is final. */
  async wait(id: string, signal?: AbortSignal): Promise<TaskRecord> {
    const r = this.records.get(id);
    if (!r) throw new VmkitError('NOT_FOUND', `no task ${id}`, { details: { taskId: id } });
    const task = this.#live.get(id);
    if (task) {
      if (!signal) await task.done;
      else {
        signal.throwIfAborted();
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(new VmkitError('ABORTED', `waiting for ${id} was aborted`));
          signal.addEventListener('abort', onAbort, { once: true });
          void task.done.then(() => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          });
        });
      }
    }
    return r;
  }

  /** Stops every live task (marked failed: the service closed) and waits for them. */
  async close(): Promise<void> {
    for (const task of this.#live.values())
      task.controller.abort(new StopReason('close', 'the import service was closed'));
    await Promise.all([...this.#live.values()].map((t) => t.done));
    await this.#repo.flush();
  }
}

function errorMessage(error: unknown): string {
  if (isAbortError(error)) return 'aborted';
  return error instanceof Error ? error.message : String(error);
}

/** Kills `pid` only if its command line names `scratch` (so a reused pid is left alone). */
async function killOrphan(pid: number, scratch: string): Promise<void> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes(scratch)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
