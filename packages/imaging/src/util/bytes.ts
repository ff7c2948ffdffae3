/** Little- and big-endian field writers for on-disk structures (all offsets in bytes). */

/** Writes a 16-bit little-endian value. */
export function u16le(buf: Uint8Array, off: number, value: number): void {
  buf[off] = value & 0xff;
  buf[off + 1] = (value >>> 8) & 0xff;
}

/** Writes a 16-bit big-endian value. */
export function u16be(buf: Uint8Array, off: number, value: number): void {
  buf[off] = (value >>> 8) & 0xff;
  buf[off + 1] = value & 0xff;
}

/** Writes a 32-bit little-endian value. */
export function u32le(buf: Uint8Array, off: number, value: number): void {
  buf[off] = value & 0xff;
  buf[off + 1] = (value >>> 8) & 0xff;
  buf[off + 2] = (value >>> 16) & 0xff;
  buf[off + 3] = (value >>> 24) & 0xff;
}

/** Writes a 32-bit big-endian value. */
export function u32be(buf: Uint8Array, off: number, value: number): void {
  buf[off] = (value >>> 24) & 0xff;
  buf[off + 1] = (value >>> 16) & 0xff;
  buf[off + 2] = (value >>> 8) & 0xff;
  buf[off + 3] = value & 0xff;
}

/** ECMA-119 7.2.3: a 16-bit value recorded little-endian then big-endian (4 bytes). */
export function both16(buf: Uint8Array, off: number, value: number): void {
  u16le(buf, off, value);
  u16be(buf, off + 2, value);
}

/** ECMA-119 7.3.3: a 32-bit value recorded little-endian then big-endian (8 bytes). */
export function both32(buf: Uint8Array, off: number, value: number): void {
  u32le(buf, off, value);
  u32be(buf, off + 4, value);
}

/** Reads a 16-bit little-endian value. */
export function read16le(buf: Uint8Array, off: number): number {
  return (buf[off] ?? 0) | ((buf[off + 1] ?? 0) << 8);
}

/** Reads a 16-bit big-endian value. */
export function read16be(buf: Uint8Array, off: number): number {
  return ((buf[off] ?? 0) << 8) | (buf[off + 1] ?? 0);
}

/** Reads a 32-bit little-endian value (unsigned). */
export function read32le(buf: Uint8Array, off: number): number {
  return (
    ((buf[off] ?? 0) | ((buf[off + 1] ?? 0) << 8) | ((buf[off + 2] ?? 0) << 16)) +
    (buf[off + 3] ?? 0) * 0x1000000
  );
}

/** Reads a 32-bit big-endian value (unsigned). */
export function read32be(buf: Uint8Array, off: number): number {
  return (
    (buf[off] ?? 0) * 0x1000000 +
    (((buf[off + 1] ?? 0) << 16) | ((buf[off + 2] ?? 0) << 8) | (buf[off + 3] ?? 0))
  );
}

/** Writes `text` as single-byte characters into a fixed-width field padded with `pad`. */
export function putAscii(buf: Uint8Array, off: number, width: number, text: string, pad = 0x20): void {
  for (let i = 0; i < width; i++) buf[off + i] = i < text.length ? text.charCodeAt(i) & 0xff : pad;
}

/** Writes `text` as UCS-2/UTF-16 big-endian into a fixed-width field padded with `pad` code units. */
export function putUcs2be(buf: Uint8Array, off: number, width: number, text: string, pad = 0x0020): void {
  const units = Math.floor(width / 2);
  for (let i = 0; i < units; i++) u16be(buf, off + i * 2, i < text.length ? text.charCodeAt(i) : pad);
}

/** Encodes `text` as UTF-16 big-endian bytes. */
export function utf16be(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) u16be(out, i * 2, text.charCodeAt(i));
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** UTF-8 bytes of `text` (ASCII without a round trip through TextEncoder). */
export function utf8(text: string): Uint8Array {
  const n = text.length;
  if (n > 256) return encoder.encode(text);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return encoder.encode(text);
    out[i] = c;
  }
  return out;
}

/** Length of `text` in UTF-8 bytes (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Single-byte characters of `text` (code units above 0xFF are cut to their low byte). */
export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Text of UTF-8 `bytes` (invalid sequences become U+FFFD). */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Rounds `value` up to a multiple of `unit`. */
export function roundUp(value: number, unit: number): number {
  return Math.ceil(value / unit) * unit;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
