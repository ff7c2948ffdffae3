import { abortedError } from './abort.js';

/** A counting semaphore: at most `permits` holders at once, served in arrival order. */
export class Semaphore {
  #free: number;
  readonly #queue: Array<() => void> = [];

  constructor(permits: number) {
    this.#free = permits;
  }

  /**
   * Waits for a permit; call the returned function exactly once to give it back. When `signal`
   * fires first, the wait is dropped (no permit is taken) and `ABORTED` is thrown.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw abortedError(signal);
    if (this.#free > 0) {
      this.#free--;
    } else {
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const index = this.#queue.indexOf(grant);
          if (index >= 0) this.#queue.splice(index, 1);
          reject(abortedError(signal as AbortSignal));
        };
        this.#queue.push(grant);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next) next();
      else this.#free++;
    };
  }
}
