import { type BlobStore, listAll } from '@vmkit/core';
import { VmkitError } from '@vmkit/core/spi';
import type { ImageRecord, TaskRecord } from './task-record.js';

const TASKS = 'tasks/';
const IMAGES = 'images/';

/**
 * Task and image records as JSON blobs in one container of a {@link BlobStore}; writes of one
 * task are chained so that a slow earlier write never lands after a later one.
 */
export class TaskRepository {
  readonly #store: BlobStore;
  readonly #container: string;
  readonly #chains = new Map<string, Promise<void>>();

  constructor(store: BlobStore, container: string) {
    this.#store = store;
    this.#container = container;
  }

  /** Creates the container (idempotent). */
  async init(): Promise<void> {
    await this.#store.createContainer(this.#container);
  }

  /** Writes a task record (a snapshot of it now). */
  saveTask(record: TaskRecord): Promise<void> {
    return this.#chain(`${TASKS}${record.id}.json`, JSON.stringify(record));
  }

  /** Writes an image record. */
  saveImage(record: ImageRecord): Promise<void> {
    return this.#chain(`${IMAGES}${record.imageId}.json`, JSON.stringify(record));
  }

  /** Every task record. */
  loadTasks(): Promise<TaskRecord[]> {
    return this.#loadAll<TaskRecord>(TASKS);
  }

  /** Every image record. */
  loadImages(): Promise<ImageRecord[]> {
    return this.#loadAll<ImageRecord>(IMAGES);
  }

  /** Waits for every write under way. */
  async flush(): Promise<void> {
    await Promise.all([...this.#chains.values()]);
  }

  #chain(name: string, json: string): Promise<void> {
    const prev = this.#chains.get(name) ?? Promise.resolve();
    const next = prev
      .catch(() => {})
      .then(() => this.#store.putBlob(this.#container, name, json, { contentType: 'application/json' }))
      .then(() => {});
    this.#chains.set(name, next);
    void next
      .finally(() => {
        if (this.#chains.get(name) === next) this.#chains.delete(name);
      })
      .catch(() => {});
    return next;
  }

  async #loadAll<T>(prefix: string): Promise<T[]> {
    const out: T[] = [];
    for await (const item of listAll(this.#store, this.#container, prefix)) {
      const blob = await this.#store.getBlob(this.#container, item.name);
      if (!blob) continue;
      try {
        out.push(JSON.parse(await blob.text()) as T);
      } catch (error) {
        throw new VmkitError('CORRUPT', `import record ${item.name} is not JSON`, { cause: error });
      }
    }
    return out;
  }
}
