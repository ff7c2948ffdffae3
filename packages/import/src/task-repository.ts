import type { Logger } from '@vmkit/core';
import { type BlobStore, listAll } from '@vmkit/core/blobstore';
import { moveBlobAside } from '@vmkit/core/internal';
import { VmkitError } from '@vmkit/core/spi';
import type { ImageRecord, TaskRecord } from './task-record.js';
import { checkTaskRecord, taskBlobName } from './task-record-check.js';

const TASKS = 'tasks/';
const IMAGES = 'images/';

/**
 * Task and image records as JSON blobs in one container of a {@link BlobStore}; writes of one
 * task are chained so that a slow earlier write never lands after a later one.
 */
export class TaskRepository {
  readonly #store: BlobStore;
  readonly #container: string;
  readonly #logger: Logger;
  readonly #chains = new Map<string, Promise<void>>();

  constructor(store: BlobStore, container: string, logger: Logger) {
    this.#store = store;
    this.#container = container;
    this.#logger = logger;
  }

  /** Where records that fail their checks are moved: `<container>-quarantine`. */
  get quarantineContainer(): string {
    return `${this.#container}-quarantine`;
  }

  /** Creates the container (idempotent). */
  async init(): Promise<void> {
    await this.#store.createContainer(this.#container);
  }

  /** Writes a task record (a snapshot of it now). */
  saveTask(record: TaskRecord): Promise<void> {
    return this.#chain(taskBlobName(record.id), JSON.stringify(record));
  }

  /** Writes an image record. */
  saveImage(record: ImageRecord): Promise<void> {
    return this.#chain(`${IMAGES}${record.imageId}.json`, JSON.stringify(record));
  }

  /** Removes an image record (after any write of it still under way). */
  removeImage(imageId: string): Promise<void> {
    const name = `${IMAGES}${imageId}.json`;
    const prev = this.#chains.get(name) ?? Promise.resolve();
    return prev.catch(() => {}).then(() => this.#store.removeBlob(this.#container, name));
  }

  /**
   * Every task record that passes {@link checkTaskRecord}; one that does not (or is not JSON) is
   * quarantined with a warning naming the rule, and nothing it names is touched.
   */
  async loadTasks(): Promise<TaskRecord[]> {
    const out: TaskRecord[] = [];
    for await (const item of listAll(this.#store, this.#container, TASKS)) {
      const blob = await this.#store.getBlob(this.#container, item.name);
      if (!blob) continue;
      try {
        out.push(checkTaskRecord(item.name, parseJson(item.name, await blob.text())));
      } catch (error) {
        if (!VmkitError.is(error) || error.code !== 'CORRUPT') throw error;
        await this.#quarantine(item.name, error.message);
      }
    }
    return out;
  }

  /** Every image record. */
  loadImages(): Promise<ImageRecord[]> {
    return this.#loadAll<ImageRecord>(IMAGES);
  }

  /** One image record, or `undefined` (untrusted: the caller checks it). */
  async loadImage(imageId: string): Promise<ImageRecord | undefined> {
    const name = `${IMAGES}${imageId}.json`;
    const blob = await this.#store.getBlob(this.#container, name);
    return blob ? (parseJson(name, await blob.text()) as ImageRecord) : undefined;
  }

  /** Waits for every write under way. */
  async flush(): Promise<void> {
    await Promise.all([...this.#chains.values()]);
  }

  /** Moves a bad record aside (copied first, then removed); when that fails it stays, ignored. */
  async #quarantine(name: string, reason: string): Promise<void> {
    this.#logger.warn('import task record quarantined: nothing it names is touched', {
      container: this.#container,
      blob: name,
      reason,
    });
    try {
      await this.#store.createContainer(this.quarantineContainer);
      const place = { container: this.#container, name, aside: this.quarantineContainer };
      await moveBlobAside(this.#store, place, reason);
    } catch (error) {
      this.#logger.error('cannot move a bad import record aside; it stays and is ignored', {
        blob: name,
        error: String(error),
      });
    }
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
      out.push(parseJson(item.name, await blob.text()) as T);
    }
    return out;
  }
}

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new VmkitError('CORRUPT', `import record ${name} is not JSON`, { cause: error });
  }
}
