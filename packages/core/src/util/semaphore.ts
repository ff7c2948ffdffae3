/** A counting semaphore: at most `permits` holders at once, served in arrival order. */
export class Semaphore {
  #free: number;
  readonly #queue: Array<() => void> = [];

  constructor(permits: number) {
    this.#free = permits;
  }

  /** Waits for a permit; call the returned function exactly once to give it back. */
  async acquire(): Promise<() => void> {
    if (this.#free > 0) {
      this.#free--;
    } else {
      await new Promise<void>((resolve) => this.#queue.push(resolve));
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
