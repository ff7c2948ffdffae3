import type { TaskStage } from './task-model.js';
import type { TaskRecord } from './task-record.js';
import type { TaskRepository } from './task-repository.js';

/** Progress changes persisted at most this often (stage changes always are). */
const PERSIST_EVERY_MS = 1000;

/** A task being run: its record, its abort controller, and persistence of its changes. */
export class LiveTask {
  readonly record: TaskRecord;
  readonly controller = new AbortController();
  readonly #repo: TaskRepository;
  #lastSaved = 0;
  /** Settles when the task reached a final state. */
  done: Promise<void> = Promise.resolve();

  constructor(record: TaskRecord, repo: TaskRepository) {
    this.record = record;
    this.#repo = repo;
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

  /** Persists the record as it is now. */
  save(): Promise<void> {
    this.record.updatedAt = new Date().toISOString();
    this.#lastSaved = Date.now();
    return this.#repo.saveTask({ ...this.record });
  }
}
