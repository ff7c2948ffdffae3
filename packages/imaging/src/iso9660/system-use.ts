import { CE_LENGTH } from './rock-ridge.js';

/** Sector size of ISO 9660 media. */
export const SECTOR = 2048;
/** Longest directory record; records have even lengths, so 254 bytes are usable. */
const MAX_RECORD = 254;

/** A SUSP continuation area (SUSP 5.1): entries that did not fit in their directory record. */
export interface ContinuationArea {
  /** The entries recorded in the area (a CE to the next area is added when `next` is set). */
  readonly entries: Uint8Array[];
  /** Bytes used, CE included. */
  readonly length: number;
  /** The area that continues this one, as an index in the layout's area list. */
  next?: number;
  /** Sector holding the area (set by the layout). */
  lba: number;
  /** Byte offset of the area in its sector. */
  offset: number;
}

/** Where a record's system use entries go: in the record, and the first continuation area if any. */
export interface SystemUsePlan {
  /** Entries recorded in the directory record itself (a CE follows when `continuation` is set). */
  readonly inline: Uint8Array[];
  /** Index of the first continuation area. */
  readonly continuation?: number;
  /** Bytes the system use field takes in the record, CE included. */
  readonly inlineLength: number;
}

/**
 * Splits `entries` between a directory record whose fixed part and identifier take `headLength`
 * bytes and as many continuation areas as needed. No entry is split; each area fits in one sector
 * (readers such as Linux refuse areas that cross a block), chained by CE entries.
 */
export function planSystemUse(
  entries: Uint8Array[],
  headLength: number,
  areas: ContinuationArea[],
): SystemUsePlan {
  const available = MAX_RECORD - headLength;
  const total = entries.reduce((n, e) => n + e.length, 0);
  if (total <= available) return { inline: entries, inlineLength: total };
  const inline: Uint8Array[] = [];
  let used = 0;
  let i = 0;
  for (; i < entries.length; i++) {
    const e = entries[i] as Uint8Array;
    if (used + e.length > available - CE_LENGTH) break;
    inline.push(e);
    used += e.length;
  }
  const first = areas.length;
  let rest = entries.slice(i);
  let previous: ContinuationArea | undefined;
  while (rest.length > 0) {
    const restTotal = rest.reduce((n, e) => n + e.length, 0);
    let taken: Uint8Array[];
    let length: number;
    if (restTotal <= SECTOR) {
      taken = rest;
      length = restTotal;
      rest = [];
    } else {
      taken = [];
      length = 0;
      while (rest.length > 0 && length + (rest[0] as Uint8Array).length <= SECTOR - CE_LENGTH) {
        const e = rest.shift() as Uint8Array;
        taken.push(e);
        length += e.length;
      }
      length += CE_LENGTH;
    }
    const area: ContinuationArea = { entries: taken, length, lba: 0, offset: 0 };
    if (previous) previous.next = areas.length;
    areas.push(area);
    previous = area;
  }
  return { inline, continuation: first, inlineLength: used + CE_LENGTH };
}

/** Places continuation areas in consecutive sectors from `startLba`; returns the sectors used. */
export function placeAreas(areas: ContinuationArea[], startLba: number): number {
  let sector = 0;
  let offset = 0;
  for (const area of areas) {
    if (offset + area.length > SECTOR) {
      sector++;
      offset = 0;
    }
    area.lba = startLba + sector;
    area.offset = offset;
    offset += area.length;
  }
  return areas.length === 0 ? 0 : sector + 1;
}
