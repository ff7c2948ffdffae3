import { abortedError, raceAbort } from './abort.js';
import { emitProgress, type ProgressListener } from './progress.js';

interface Flight<V> {
  readonly promise: Promise<V>;
  readonly controller: AbortController;
  readonly listeners: Set<ProgressListener>;
  waiters: number;
  settled: boolean;
}

/**
 * Runs at most one task per key at a time, however many callers ask: later callers join the
 * running task. Each caller may stop waiting with its own signal; the task itself is aborted only
 * when every caller has stopped waiting. Progress events fan out to every waiting caller. A failed
 * task is forgotten, so the next call starts afresh.
 */
export class SingleFlight<K, V> {
  readonly #flights = new Map<K, Flight<V>>();

  /** Whether a task for `key` is running. */
  has(key: K): boolean {
    return this.#flights.has(key);
  }

  /** Number of running tasks. */
  get size(): number {
    return this.#flights.size;
  }

  /** Joins the running task for `key`, or starts `task` for it. */
  run(
    key: K,
    task: (signal: AbortSignal, progress: ProgressListener) => Promise<V>,
    options: { signal?: AbortSignal; onProgress?: ProgressListener } = {},
  ): Promise<V> {
    const { signal, onProgress } = options;
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    let flight = this.#flights.get(key);
    if (flight?.controller.signal.aborted && !flight.settled) {
      // Every earlier caller gave up and the task is winding down (cleaning up what it made):
      // wait for it to finish, then start afresh, instead of joining a task that will fail.
      const ending = flight.promise.then(
        () => undefined,
        () => undefined,
      );
      return raceAbort(ending, signal, 'wait').then(() => this.run(key, task, options));
    }
    if (!flight) {
      const controller = new AbortController();
      const listeners = new Set<ProgressListener>();
      const fanOut: ProgressListener = (event) => {
        for (const listener of listeners) emitProgress(listener, event);
      };
      const created: Flight<V> = {
        promise: Promise.resolve().then(() => task(controller.signal, fanOut)),
        controller,
        listeners,
        waiters: 0,
        settled: false,
      };
      flight = created;
      this.#flights.set(key, created);
      const done = () => {
        created.settled = true;
        if (this.#flights.get(key) === created) this.#flights.delete(key);
      };
      created.promise.then(done, done);
    }
    return this.#wait(flight, signal, onProgress);
  }

  /** The running tasks' promises (to wait for them, e.g. on close). */
  pending(): Promise<V>[] {
    return [...this.#flights.values()].map((f) => f.promise);
  }

  /** Aborts every running task (e.g. on close). */
  abortAll(reason?: unknown): void {
    for (const flight of this.#flights.values()) flight.controller.abort(reason);
  }

  #wait(
    flight: Flight<V>,
    signal: AbortSignal | undefined,
    onProgress: ProgressListener | undefined,
  ): Promise<V> {
    flight.waiters++;
    if (onProgress) flight.listeners.add(onProgress);
    return new Promise<V>((resolve, reject) => {
      let left = false;
      const leave = () => {
        if (left) return;
        left = true;
        signal?.removeEventListener('abort', onAbort);
        if (onProgress) flight.listeners.delete(onProgress);
        flight.waiters--;
      };
      const onAbort = () => {
        leave();
        if (flight.waiters === 0 && !flight.settled) flight.controller.abort(signal?.reason);
        reject(abortedError(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => {
          leave();
          resolve(value);
        },
        (error: unknown) => {
          leave();
          reject(error);
        },
      );
    });
  }
}
