import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isAbortError, VmkitError } from '@vmkit/core/spi';
import { type Admission, AdmissionQueue } from './admission-queue.js';
import type { HostIdentity } from './host-identity.js';
import type { ResolvedImportOptions } from './import-service-options.js';
import { LiveTask } from './live-task.js';
import { isLive, type TaskRecord } from './task-record.js';
import type { TaskRepository } from './task-repository.js';
import { killOrphanConverter, taskScratchPath, tasksFolder } from './task-scratch.js';

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
  readonly #host: HostIdentity;
  readonly #live = new Map<string, LiveTask>();
  readonly records = new Map<string, TaskRecord>();

  constructor(options: ResolvedImportOptions, repo: TaskRepository, host: HostIdentity) {
    this.#options = options;
    this.#repo = repo;
    this.#host = host;
    this.#queue = new AdmissionQueue(options.limits.tasks, options.limits.scratchBytes);
  }

  /** Scratch directory of a task (refused unless the id is vmkit's and the folder inside scratch). */
  scratchOf(id: string): string {
    return taskScratchPath(this.#options.scratchDir, id);
  }

  /**
   * Loads the (checked) records. A task still live in them is recovered only when this host ran
   * it and the service that ran it is gone: its converter is killed when this host recorded its
   * pid in this boot (see `killOrphanConverter`), its scratch removed, and it is marked failed with
   * the reason. Another host's tasks, and tasks of another live service on this host, are left
   * for their owner; a live record naming no host is left too (it may be anyone's).
   */
  async recover(records: TaskRecord[]): Promise<void> {
    const keep = new Set<string>();
    for (const r of records) {
      this.records.set(r.id, r);
      if (!isLive(r)) continue;
      const owner = this.#ownerOf(r);
      if (owner !== undefined) {
        keep.add(r.id);
        this.#options.logger.info('import task left for its owner', { taskId: r.id, owner });
        continue;
      }
      const scratch = this.scratchOf(r.id);
      const spared = await killOrphanConverter(scratch, r, this.#host);
      if (spared !== undefined && r.converterPid)
        this.#options.logger.warn('converter of a dead import task not killed', {
          taskId: r.id,
          pid: r.converterPid,
          reason: spared,
        });
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
    await this.#sweepScratch(keep);
  }

  /** Who else runs a live task, or `undefined` when it is this host's and its service is gone. */
  #ownerOf(r: TaskRecord): string | undefined {
    if (!r.hostId) return 'unknown: the record names no host';
    if (r.hostId !== this.#host.hostId) return `host ${r.hostId}`;
    const pid = r.servicePid;
    if (
      r.bootId === this.#host.bootId &&
      pid !== undefined &&
      pid > 1 &&
      pid !== this.#host.pid &&
      alive(pid)
    )
      return `process ${pid} of this host`;
    return undefined;
  }

  /** Empties the tasks' scratch folder, but for the folders of tasks left for their owner. */
  async #sweepScratch(keep: ReadonlySet<string>): Promise<void> {
    const tasks = tasksFolder(this.#options.scratchDir);
    const info = await lstat(tasks).catch(() => undefined);
    if (info && !info.isDirectory()) await rm(tasks, { force: true }); // never followed
    if (!info?.isDirectory()) return;
    const entries = await readdir(tasks);
    for (const name of entries)
      if (!keep.has(name)) await rm(join(tasks, name), { recursive: true, force: true });
  }

  /** Starts a task: persisted as `pending` now, run when admitted. */
  async submit(record: TaskRecord, plan: TaskPlan): Promise<void> {
    Object.assign(record, {
      hostId: this.#host.hostId,
      bootId: this.#host.bootId,
      servicePid: this.#host.pid,
    });
    if (!record.bootId) delete record.bootId;
    const task = new LiveTask(record, this.#repo, this.scratchOf(record.id));
    this.records.set(record.id, record);
    this.#live.set(record.id, task);
    await task.save();
    task.done = this.#run(task, plan);
  }

  async #run(task: LiveTask, plan: TaskPlan): Promise<void> {
    const r = task.record;
    const scratch = task.scratch;
    let admission: Admission | undefined;
    try {
      const bytes = await plan.estimate(task.signal);
      admission = await this.#queue.admit(r.id, bytes, task.signal);
      await mkdir(tasksFolder(this.#options.scratchDir), { recursive: true, mode: 0o700 });
      // Exclusive: the folder is new (ids are random), private, and never one that was already there.
      await mkdir(scratch, { mode: 0o700 });
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

/** Whether process `pid` exists (signal 0; EPERM means it does, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
