import { VmkitError } from '@vmkit/core/spi';

/** An admitted task's slot and scratch reservation. */
export interface Admission {
  /** Frees the slot and the reservation (idempotent). */
  release(): void;
  /** Reserves `bytes` more if they fit now; false otherwise. */
  grow(bytes: number): boolean;
  /** Bytes reserved. */
  readonly bytes: number;
}

interface Waiter {
  readonly id: string;
  readonly bytes: number;
  readonly resolve: (admission: Admission) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Admits tasks in arrival order when a slot is free (at most `slots` at once) and their scratch
 * estimate fits in what is left of `scratchBytes`; the others wait (their task stays `pending`).
 * An estimate larger than the whole quota is refused at once.
 */
export class AdmissionQueue {
  readonly #slots: number;
  readonly #scratchBytes: number;
  readonly #waiting: Waiter[] = [];
  #running = 0;
  #reserved = 0;

  constructor(slots: number, scratchBytes: number) {
    this.#slots = slots;
    this.#scratchBytes = scratchBytes;
  }

  /** Scratch bytes reserved by admitted tasks. */
  get reservedBytes(): number {
    return this.#reserved;
  }

  /** Tasks admitted and not yet released. */
  get running(): number {
    return this.#running;
  }

  /** Resolves with a release function once admitted; rejects when `signal` aborts first. */
  admit(id: string, bytes: number, signal: AbortSignal): Promise<Admission> {
    if (bytes > this.#scratchBytes)
      return Promise.reject(
        new VmkitError(
          'INVALID_ARGUMENT',
          `limits.scratchBytes: task ${id} needs about ${bytes} bytes of scratch space, more than the quota of ${this.#scratchBytes}`,
          { details: { field: 'limits.scratchBytes', needed: bytes, quota: this.#scratchBytes } },
        ),
      );
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { id, bytes, resolve, reject };
      const onAbort = () => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push({
        ...waiter,
        resolve: (admission) => {
          signal.removeEventListener('abort', onAbort);
          resolve(admission);
        },
      });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#waiting.length > 0 && this.#running < this.#slots) {
      const next = this.#waiting[0]!;
      if (this.#reserved + next.bytes > this.#scratchBytes) return;
      this.#waiting.shift();
      this.#running++;
      this.#reserved += next.bytes;
      let released = false;
      let bytes = next.bytes;
      const admission: Admission = {
        release: () => {
          if (released) return;
          released = true;
          this.#running--;
          this.#reserved -= bytes;
          this.#pump();
        },
        grow: (more) => {
          if (released || this.#reserved + more > this.#scratchBytes) return false;
          this.#reserved += more;
          bytes += more;
          return true;
        },
        get bytes() {
          return bytes;
        },
      };
      next.resolve(admission);
    }
  }
}
