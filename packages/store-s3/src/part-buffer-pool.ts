/**
 * A fixed set of part buffers that multipart uploads fill, send and hand back, so a stream of any
 * length goes up through the same few buffers: no buffer is allocated per part, and no freed
 * part waits for the garbage collector (V8 collects large freed buffers late, which shows as
 * resident memory far above what is in use). Buffers are made on first need, at most `count`.
 */
export class PartBufferPool {
  readonly #size: number;
  readonly #count: number;
  readonly #free: Buffer[] = [];
  readonly #waiting: Array<(buffer: Buffer) => void> = [];
  #made = 0;

  /** `size`: bytes per buffer; `count`: the most buffers ever made. */
  constructor(size: number, count: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError('PartBufferPool: size must be a positive integer');
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError('PartBufferPool: count must be a positive integer');
    this.#size = size;
    this.#count = count;
  }

  /** Buffers made so far. */
  get made(): number {
    return this.#made;
  }

  /** Buffers neither free nor made yet: in use by callers. */
  get inUse(): number {
    return this.#made - this.#free.length;
  }

  /** A free buffer; waits for one to be released when all `count` are in use. */
  acquire(): Promise<Buffer> {
    const free = this.#free.pop();
    if (free) return Promise.resolve(free);
    if (this.#made < this.#count) {
      this.#made++;
      return Promise.resolve(Buffer.allocUnsafeSlow(this.#size));
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /**
   * Frees the buffers at once instead of leaving them to the garbage collector, which reclaims
   * large old buffers only after tens of MiB of them pile up: each is detached by transferring it
   * to a closed message channel. Only when no buffer is in use or can still be read from (an
   * aborted request may still be writing one to its socket: then leave them to the collector).
   * The pool is empty afterwards and makes new buffers if asked again.
   */
  dispose(): void {
    if (this.inUse > 0) return;
    const buffers = this.#free.splice(0).map((b) => b.buffer as ArrayBuffer);
    this.#made = 0;
    if (buffers.length === 0) return;
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(null, buffers);
    port1.close();
    port2.close();
  }

  /** Hands a buffer back (to the longest waiter, else to the free list). */
  release(buffer: Buffer): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter(buffer);
    else this.#free.push(buffer);
  }
}
