import { invalidArgument } from '@vmkit/core/spi';

const INT_MIN = -0x8000_0000;
const INT_MAX = 0x7fff_ffff;
const UINT_MAX = 0xffff_ffff;
const HYPER_MIN = -(2n ** 63n);
const HYPER_MAX = 2n ** 63n - 1n;
const UHYPER_MAX = 2n ** 64n - 1n;
const encoder = new TextEncoder();

/**
 * Writes XDR (RFC 4506) into a growing buffer: 4-byte big-endian words, opaque data and strings
 * padded to a multiple of 4. Values out of range are rejected rather than wrapped.
 */
export class XdrWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(initialSize = 256) {
    this.#buf = new Uint8Array(initialSize);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /** A copy-free view of the bytes written so far. */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  #reserve(n: number): number {
    const need = this.#len + n;
    if (need > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    const at = this.#len;
    this.#len = need;
    return at;
  }

  /** A signed 32-bit integer. */
  int(value: number): this {
    if (!Number.isInteger(value) || value < INT_MIN || value > INT_MAX) {
      throw invalidArgument('xdr int', `must be an integer in [${INT_MIN}, ${INT_MAX}], got ${value}`);
    }
    const at = this.#reserve(4);
    this.#view.setInt32(at, value);
    return this;
  }

  /** An unsigned 32-bit integer. */
  uint(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > UINT_MAX) {
      throw invalidArgument('xdr uint', `must be an integer in [0, ${UINT_MAX}], got ${value}`);
    }
    const at = this.#reserve(4);
    this.#view.setUint32(at, value);
    return this;
  }

  /** A signed 64-bit integer. */
  hyper(value: bigint | number): this {
    const v = BigInt(value);
    if (v < HYPER_MIN || v > HYPER_MAX) throw invalidArgument('xdr hyper', `out of range: ${v}`);
    const at = this.#reserve(8);
    this.#view.setBigInt64(at, v);
    return this;
  }

  /** An unsigned 64-bit integer. */
  uhyper(value: bigint | number): this {
    const v = BigInt(value);
    if (v < 0n || v > UHYPER_MAX) throw invalidArgument('xdr unsigned hyper', `out of range: ${v}`);
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, v);
    return this;
  }

  /** An IEEE double. */
  double(value: number): this {
    const at = this.#reserve(8);
    this.#view.setFloat64(at, value);
    return this;
  }

  /** A boolean, as the int 0 or 1. */
  bool(value: boolean): this {
    return this.int(value ? 1 : 0);
  }

  /** Fixed-length opaque data of exactly `size` bytes, padded. */
  opaqueFixed(data: Uint8Array, size: number): this {
    if (data.length !== size) {
      throw invalidArgument('xdr opaque', `must be exactly ${size} bytes, got ${data.length}`);
    }
    this.#raw(data);
    return this;
  }

  /** Variable-length opaque data: its length, the bytes, padding. */
  opaque(data: Uint8Array, max = UINT_MAX): this {
    if (data.length > max) throw invalidArgument('xdr opaque', `longer than its limit of ${max} bytes`);
    this.uint(data.length);
    this.#raw(data);
    return this;
  }

  /** A string, UTF-8 encoded, as variable-length opaque data. */
  string(value: string, max = UINT_MAX): this {
    const data = encoder.encode(value);
    if (data.length > max) throw invalidArgument('xdr string', `longer than its limit of ${max} bytes`);
    return this.opaque(data);
  }

  /** An optional value (`*T`): a boolean, then the value when present. */
  optional<T>(value: T | null | undefined, write: (w: this, v: T) => unknown): this {
    if (value === null || value === undefined) return this.bool(false);
    this.bool(true);
    write(this, value);
    return this;
  }

  /** A variable-length array: its count, then each item. */
  array<T>(items: readonly T[], write: (w: this, v: T) => unknown, max = UINT_MAX): this {
    if (items.length > max) throw invalidArgument('xdr array', `more than its limit of ${max} items`);
    this.uint(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  #raw(data: Uint8Array): void {
    const padded = (data.length + 3) & ~3;
    const at = this.#reserve(padded);
    this.#buf.set(data, at);
    this.#buf.fill(0, at + data.length, at + padded);
  }
}
