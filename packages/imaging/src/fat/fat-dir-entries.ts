import { invalidArgument } from '@vmkit/core/spi';
import { u16le, u32le } from '../util/bytes.js';
import { shortNameChecksum } from './fat-names.js';

/** Directory entry attribute bits. */
export const ATTR = {
  readOnly: 0x01,
  volumeId: 0x08,
  directory: 0x10,
  archive: 0x20,
  longName: 0x0f,
} as const;

/** FAT date and time words of `date` (UTC, two-second resolution). */
export function fatDateTime(date: Date): { date: number; time: number } {
  return {
    date: ((date.getUTCFullYear() - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2),
  };
}

/** Refuses dates FAT cannot record (1980 to 2107). */
export function checkFatDate(date: Date, field: string): void {
  const year = date.getUTCFullYear();
  if (year < 1980 || year > 2107)
    throw invalidArgument(field, 'FAT dates must fall in the years 1980 to 2107');
}

/** What a short (8.3) directory entry records. */
export interface ShortEntry {
  /** 11-byte 8.3 name. */
  readonly name: Uint8Array;
  /** Attribute bits. */
  readonly attributes: number;
  /** First cluster (0 when empty). */
  readonly cluster: number;
  /** File size in bytes. */
  readonly size: number;
  /** Modification time. */
  readonly mtime: Date;
}

/** Encodes a 32-byte short directory entry at `off`. */
export function encodeShortEntry(buf: Uint8Array, off: number, entry: ShortEntry): void {
  buf.set(entry.name.subarray(0, 11), off);
  buf[off + 11] = entry.attributes;
  buf[off + 12] = 0;
  buf[off + 13] = 0;
  const { date, time } = fatDateTime(entry.mtime);
  u16le(buf, off + 14, time);
  u16le(buf, off + 16, date);
  u16le(buf, off + 18, date);
  u16le(buf, off + 20, (entry.cluster >>> 16) & 0xffff);
  u16le(buf, off + 22, time);
  u16le(buf, off + 24, date);
  u16le(buf, off + 26, entry.cluster & 0xffff);
  u32le(buf, off + 28, entry.size);
}

/** Number of 32-byte entries a long name takes (13 UTF-16 code units each). */
export function longEntryCount(long: string | undefined): number {
  return long === undefined ? 0 : Math.ceil(long.length / 13);
}

const LFN_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/**
 * Encodes the long-name entries of `long` at `off`, last part first as recorded on disk, each
 * carrying the checksum of `short`; returns the bytes written.
 */
export function encodeLongEntries(buf: Uint8Array, off: number, long: string, short: Uint8Array): number {
  const count = longEntryCount(long);
  const checksum = shortNameChecksum(short);
  for (let k = 0; k < count; k++) {
    const seq = count - k;
    const at = off + k * 32;
    buf[at] = seq | (seq === count ? 0x40 : 0);
    buf[at + 11] = ATTR.longName;
    buf[at + 12] = 0;
    buf[at + 13] = checksum;
    u16le(buf, at + 26, 0);
    for (let c = 0; c < 13; c++) {
      const index = (seq - 1) * 13 + c;
      const unit = index < long.length ? long.charCodeAt(index) : index === long.length ? 0x0000 : 0xffff;
      u16le(buf, at + (LFN_OFFSETS[c] as number), unit);
    }
  }
  return count * 32;
}
