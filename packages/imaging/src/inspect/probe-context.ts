import { throwIfAborted } from '@vmkit/core/spi';
import type { ByteSource } from '../iso9660/read/byte-source.js';
import type { ImageRule } from './image-info.js';

/** Bytes read from the start of an image before any probe runs. */
export const HEAD_BYTES = 64 * 1024;

/** Thrown inside a probe when the header is cut short or over budget; becomes an issue. */
export class ProbeFailure extends Error {
  /** The rule the image broke. */
  readonly rule: ImageRule;
  constructor(rule: ImageRule, message: string) {
    super(message);
    this.rule = rule;
  }
}

/**
 * Bounded, counted access to an image for the format probes: the first {@link HEAD_BYTES} and the
 * last 512 bytes are read once and shared; any other read is charged to a budget.
 */
export class ProbeContext {
  readonly #source: ByteSource;
  readonly #budget: number;
  readonly #signal: AbortSignal | undefined;
  #bytesRead = 0;
  /** The image's first bytes (fewer when the image is smaller). */
  head: Uint8Array = new Uint8Array(0);
  /** The image's last 512 bytes (empty when the image is smaller). */
  tail: Uint8Array = new Uint8Array(0);

  constructor(source: ByteSource, budget: number, signal?: AbortSignal) {
    this.#source = source;
    this.#budget = budget;
    this.#signal = signal;
  }

  /** Size of the image in bytes. */
  get size(): number {
    return this.#source.size;
  }

  /** Bytes read so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Reads the shared head and tail. */
  async init(): Promise<void> {
    this.head = await this.#read(0, Math.min(HEAD_BYTES, this.size));
    if (this.size >= 512) {
      const off = this.size - 512;
      this.tail =
        off + 512 <= this.head.length ? this.head.subarray(off, off + 512) : await this.#read(off, 512);
    }
  }

  /**
   * `length` bytes at `offset`, from the head when they lie there; `truncated` when they lie
   * beyond the end, `read-budget` when reading them would pass the budget.
   */
  async read(offset: number, length: number, what: string): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
      throw new ProbeFailure('malformed', `${what} has an impossible offset ${offset} or length ${length}`);
    if (offset + length > this.size)
      throw new ProbeFailure(
        'truncated',
        `${what} (${length} bytes at ${offset}) lies beyond the end of the file (${this.size} bytes)`,
      );
    if (offset + length <= this.head.length) return this.head.subarray(offset, offset + length);
    return this.#read(offset, length, what);
  }

  /** The shared head, or `truncated` naming the header when the file is shorter than `length`. */
  need(length: number, what: string): Uint8Array {
    if (this.head.length < length)
      throw new ProbeFailure(
        'truncated',
        `${what} needs ${length} bytes but the file has only ${this.head.length}`,
      );
    return this.head;
  }

  async #read(offset: number, length: number, what = 'header'): Promise<Uint8Array> {
    throwIfAborted(this.#signal);
    if (this.#bytesRead + length > this.#budget)
      throw new ProbeFailure(
        'read-budget',
        `reading ${what} (${length} bytes) would pass the inspection budget of ${this.#budget} bytes`,
      );
    this.#bytesRead += length;
    return this.#source.read(offset, length);
  }
}

/** A DataView over `bytes`. */
export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** ASCII text of `bytes[start, start+length)`. */
export function ascii(bytes: Uint8Array, start: number, length: number): string {
  return LATIN1.decode(bytes.subarray(start, start + length));
}

const LATIN1 = new TextDecoder('latin1');

/** A u64 as a number, `malformed` when past 2^53. */
export function u64(dv: DataView, offset: number, littleEndian: boolean, what: string): number {
  const v = dv.getBigUint64(offset, littleEndian);
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ProbeFailure('malformed', `${what} is ${v}, more than any real image can hold`);
  return Number(v);
}
