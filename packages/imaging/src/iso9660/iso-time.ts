import { invalidArgument } from '@vmkit/core/spi';

/** ECMA-119 9.1.5: the 7-byte recording date of a directory record (UTC, offset 0). */
export function dirRecordDate(date: Date, buf: Uint8Array, off: number): void {
  buf[off] = date.getUTCFullYear() - 1900;
  buf[off + 1] = date.getUTCMonth() + 1;
  buf[off + 2] = date.getUTCDate();
  buf[off + 3] = date.getUTCHours();
  buf[off + 4] = date.getUTCMinutes();
  buf[off + 5] = date.getUTCSeconds();
  buf[off + 6] = 0;
}

/** Reads a 7-byte directory record date (honouring its GMT offset). */
export function readDirRecordDate(buf: Uint8Array, off: number): Date {
  const offset = ((buf[off + 6] ?? 0) << 24) >> 24; // signed, in 15-minute units
  const ms = Date.UTC(
    1900 + (buf[off] ?? 0),
    (buf[off + 1] ?? 1) - 1,
    buf[off + 2] ?? 1,
    buf[off + 3] ?? 0,
    buf[off + 4] ?? 0,
    buf[off + 5] ?? 0,
  );
  return new Date(ms - offset * 15 * 60_000);
}

/** ECMA-119 8.4.26.1: the 17-byte volume descriptor date (`YYYYMMDDHHMMSScc` + offset), or "unset". */
export function volumeDate(date: Date | undefined, buf: Uint8Array, off: number): void {
  const text = date
    ? `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1, 2)}${pad(date.getUTCDate(), 2)}` +
      `${pad(date.getUTCHours(), 2)}${pad(date.getUTCMinutes(), 2)}${pad(date.getUTCSeconds(), 2)}` +
      pad(Math.floor(date.getUTCMilliseconds() / 10), 2)
    : '0000000000000000';
  for (let i = 0; i < 16; i++) buf[off + i] = text.charCodeAt(i);
  buf[off + 16] = 0;
}

/** Reads a 17-byte volume descriptor date; `undefined` when unset or malformed. */
export function readVolumeDate(buf: Uint8Array, off: number): Date | undefined {
  const text = String.fromCharCode(...buf.subarray(off, off + 16));
  if (!/^\d{16}$/.test(text) || text.startsWith('0000')) return undefined;
  const n = (a: number, b: number) => Number(text.slice(a, b));
  const offset = ((buf[off + 16] ?? 0) << 24) >> 24;
  const ms = Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14), n(14, 16) * 10);
  return Number.isNaN(ms) ? undefined : new Date(ms - offset * 15 * 60_000);
}

/** Refuses dates a directory record cannot hold (years 1900 to 2155). */
export function checkIsoDate(date: Date, field: string): void {
  const year = date.getUTCFullYear();
  if (year < 1900 || year > 2155)
    throw invalidArgument(field, 'ISO 9660 dates must fall in the years 1900 to 2155');
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
