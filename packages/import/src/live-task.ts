import type { TaskStage } from './task-model.js';
import type { TaskRecord } from './task-record.js';
import type { TaskRepository } from './task-repository.js';
import { markConverter } from './task-scratch.js';

/** Progress changes persisted at most this often (stage changes always are). */
const PERSIST_EVERY_MS = 1000;

/** A task being run: its record, its abort controller, and persistence of its changes. */
export class LiveTask {
  readonly record: TaskRecord;
  readonly controller = new AbortController();
  readonly #repo: TaskRepository;
  /** The task's scratch folder (private to this host). */
  readonly scratch: string;
  #lastSaved = 0;
  /** Settles when the task reached a final state. */
  done: Promise<void> = Promise.resolve();

  constructor(record: TaskRecord, repo: TaskRepository, scratch: string) {
    this.record = record;
    this.#repo = repo;
    this.scratch = scratch;
  }

  /** The task's abort signal (cancel, close). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Enters `stage` at `progress` (0-100), persisted now. */
  async stage(stage: TaskStage, progress = this.record.progress, detail?: string): Promise<void> {
    this.signal.throwIfAborted();
    this.record.stage = stage;
    this.record.progress = Math.max(this.record.progress, Math.min(100, Math.floor(progress)));
    this.record.detail = detail;
    await this.save();
  }

  /** Moves progress forward (0-100) inside the current stage; persisted now and then. */
  progress(progress: number, detail?: string): void {
    const p = Math.min(100, Math.floor(progress));
    if (p <= this.record.progress && detail === this.record.detail) return;
    this.record.progress = Math.max(this.record.progress, p);
    this.record.detail = detail;
    if (Date.now() - this.#lastSaved >= PERSIST_EVERY_MS) void this.save().catch(() => {});
  }

  /**
   * Records the converter's process id, in the record and in the task's scratch folder, so that a
   * restart of this host in this boot can end it if this process dies (see `killOrphanConverter`).
   */
  converterStarted(pid: number): void {
    this.record.converterPid = pid;
    if (pid > 1 && this.record.bootId)
      void markConverter(this.scratch, pid, this.record.bootId).catch(() => {});
    void this.save().catch(() => {});
  }

  /** Persists the record as it is now. */
  save(): Promise<void> {
    this.record.updatedAt = new Date().toISOString();
    this.#lastSaved = Date.now();
    return this.#repo.saveTask({ ...this.record });
  }
}
