/** Wakes those waiting for the next change of a simulated object (a guest session, a process). */
export class ChangeSignal {
  readonly #waiters = new Set<() => void>();

  /** Resolves on the next {@link ChangeSignal.notify}, or after `ms` (0: no limit). */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = ms > 0 ? setTimeout(done, ms) : undefined;
      timer?.unref();
      this.#waiters.add(done);
    });
  }

  /** Wakes every waiter. */
  notify(): void {
    for (const w of [...this.#waiters]) w();
  }
}
