import { XdrError } from './xdr-error.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads XDR (RFC 4506) from a byte array. Every read checks the bytes left first, and every
 * variable length is checked against its limit and against the bytes left before anything is
 * allocated, so hostile input cannot make it allocate more than the input itself.
 */
export class XdrReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(data: Uint8Array) {
    this.#buf = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** The read position. */
  get offset(): number {
    return this.#pos;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  #take(n: number, what: string): number {
    if (n > this.remaining)
      throw new XdrError(`truncated ${what}: need ${n} bytes, ${this.remaining} left`, this.#pos);
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  /** A signed 32-bit integer. */
  int(): number {
    return this.#view.getInt32(this.#take(4, 'int'));
  }

  /** An unsigned 32-bit integer. */
  uint(): number {
    return this.#view.getUint32(this.#take(4, 'unsigned int'));
  }

  /** A signed 64-bit integer. */
  hyper(): bigint {
    return this.#view.getBigInt64(this.#take(8, 'hyper'));
  }

  /** An unsigned 64-bit integer. */
  uhyper(): bigint {
    return this.#view.getBigUint64(this.#take(8, 'unsigned hyper'));
  }

  /** An unsigned 64-bit integer as a number (exact up to 2^53). */
  uhyperNumber(): number {
    return Number(this.uhyper());
  }

  /** An IEEE double. */
  double(): number {
    return this.#view.getFloat64(this.#take(8, 'double'));
  }

  /** A boolean; anything but 0 or 1 is malformed. */
  bool(): boolean {
    const at = this.#pos;
    const v = this.int();
    if (v !== 0 && v !== 1) throw new XdrError(`bad boolean ${v}`, at);
    return v === 1;
  }

  /** Fixed-length opaque data (a copy). */
  opaqueFixed(size: number): Uint8Array {
    const padded = (size + 3) & ~3;
    const at = this.#take(padded, 'fixed opaque');
    return this.#buf.slice(at, at + size);
  }

  /** Variable-length opaque data (a copy), at most `max` bytes. */
  opaque(max = 0xffff_ffff): Uint8Array {
    const at = this.#pos;
    const len = this.uint();
    if (len > max) throw new XdrError(`opaque length ${len} beyond its limit of ${max}`, at);
    if (len > this.remaining)
      throw new XdrError(`opaque length ${len} beyond the ${this.remaining} bytes left`, at);
    return this.opaqueFixed(len);
  }

  /** A UTF-8 string of at most `max` bytes. */
  string(max = 0xffff_ffff): string {
    const at = this.#pos;
    const data = this.opaque(max);
    try {
      return decoder.decode(data);
    } catch {
      throw new XdrError('string is not valid UTF-8', at);
    }
  }

  /** An optional value (`*T`). */
  optional<T>(read: (r: this) => T): T | undefined {
    return this.bool() ? read(this) : undefined;
  }

  /**
   * A variable-length array of at most `max` items; `minItemSize` (bytes, default 4) lets the
   * count be checked against the bytes left before any item is read.
   */
  array<T>(read: (r: this) => T, max = 0xffff_ffff, minItemSize = 4): T[] {
    const at = this.#pos;
    const count = this.uint();
    if (count > max) throw new XdrError(`array count ${count} beyond its limit of ${max}`, at);
    if (count * minItemSize > this.remaining) {
      throw new XdrError(`array count ${count} beyond the ${this.remaining} bytes left`, at);
    }
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(read(this));
    return items;
  }

  /** Throws unless every byte was read (trailing garbage means a layout mismatch). */
  end(): void {
    if (this.remaining !== 0) throw new XdrError(`${this.remaining} unexpected trailing bytes`, this.#pos);
  }
}
