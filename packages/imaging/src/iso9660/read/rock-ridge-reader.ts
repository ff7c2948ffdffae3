import { VmkitError } from '@vmkit/core/spi';
import { fromUtf8, read32le } from '../../util/bytes.js';
import { readDirRecordDate, readVolumeDate } from '../iso-time.js';
import type { ByteSource } from './byte-source.js';
import type { IsoReadBudget } from './read-budget.js';

const SECTOR = 2048;
/** Continuation areas followed per record before the chain is judged hostile. */
const MAX_CONTINUATIONS = 32;
/** Largest continuation area accepted. */
const MAX_AREA = 64 * 1024;

/** What the SUSP / Rock Ridge entries of one record say. */
export interface RockRidgeInfo {
  /** SP found (only meaningful on the root's `.` record). */
  sp?: { skip: number };
  /** Extension identifiers from ER entries. */
  extensions: string[];
  /** POSIX name (NM). */
  name?: string;
  /** POSIX mode, file type bits included (PX). */
  mode?: number;
  /** Link count (PX). */
  links?: number;
  /** Owner (PX). */
  uid?: number;
  /** Group (PX). */
  gid?: number;
  /** Modification time (TF). */
  mtime?: Date;
  /** Symlink target (SL). */
  target?: string;
  /** The directory was relocated here (RE): hide it from its recorded parent. */
  relocated?: boolean;
  /** Child link (CL): the real directory is at this sector. */
  childLink?: number;
  /** True when any Rock Ridge entry was seen. */
  rockRidge: boolean;
}

/**
 * Parses the SUSP entries of a system use field, following CE continuation areas (bounded in
 * number and size, and against the image-wide `budget` when given), skipping `skip` bytes first
 * (from the SP entry).
 */
export async function readSystemUse(
  field: Uint8Array,
  skip: number,
  source: ByteSource,
  budget?: IsoReadBudget,
): Promise<RockRidgeInfo> {
  const info: RockRidgeInfo = { extensions: [], rockRidge: false };
  const nameParts: Uint8Array[] = [];
  const linkParts: Array<{ flags: number; text: Uint8Array }> = [];
  const areas: Uint8Array[] = [field.subarray(Math.min(skip, field.length))];
  let hops = 0;
  while (areas.length > 0) {
    const area = areas.shift() as Uint8Array;
    let pos = 0;
    while (pos + 4 <= area.length) {
      const sig = String.fromCharCode(area[pos] ?? 0, area[pos + 1] ?? 0);
      const len = area[pos + 2] ?? 0;
      if (len < 4 || pos + len > area.length) break;
      const e = area.subarray(pos, pos + len);
      pos += len;
      switch (sig) {
        case 'ST':
          pos = area.length;
          break;
        case 'SP':
          if (len >= 7 && e[4] === 0xbe && e[5] === 0xef) info.sp = { skip: e[6] ?? 0 };
          break;
        case 'ER': {
          const idLen = e[4] ?? 0;
          info.extensions.push(String.fromCharCode(...e.subarray(8, 8 + idLen)));
          break;
        }
        case 'CE': {
          if (len < 28) break;
          if (++hops > MAX_CONTINUATIONS) throw corrupt('too many SUSP continuation areas (a loop?)');
          const block = read32le(e, 4);
          const offset = read32le(e, 12);
          const length = read32le(e, 20);
          if (length > MAX_AREA) throw corrupt(`SUSP continuation area of ${length} bytes`);
          if (offset >= SECTOR) throw corrupt(`SUSP continuation offset ${offset} is not inside its sector`);
          const at = block * SECTOR + offset;
          if (at + length > source.size)
            throw corrupt(
              `SUSP continuation area (${length} bytes at ${at}) lies beyond the end of the image`,
            );
          budget?.claimContinuation(at, length);
          areas.push(await source.read(at, length));
          break;
        }
        case 'PX':
          if (len >= 36) {
            info.mode = read32le(e, 4);
            info.links = read32le(e, 12);
            info.uid = read32le(e, 20);
            info.gid = read32le(e, 28);
            info.rockRidge = true;
          }
          break;
        case 'NM':
          info.rockRidge = true;
          if (((e[4] ?? 0) & 0x06) === 0) nameParts.push(e.subarray(5));
          break;
        case 'SL': {
          info.rockRidge = true;
          let p = 5;
          while (p + 2 <= e.length) {
            const clen = e[p + 1] ?? 0;
            linkParts.push({ flags: e[p] ?? 0, text: e.subarray(p + 2, p + 2 + clen) });
            p += 2 + clen;
          }
          break;
        }
        case 'TF':
          info.rockRidge = true;
          readTimes(e, info);
          break;
        case 'RE':
          info.relocated = true;
          info.rockRidge = true;
          break;
        case 'CL':
          if (len >= 12) info.childLink = read32le(e, 4);
          info.rockRidge = true;
          break;
        case 'RR':
        case 'PN':
        case 'PL':
          info.rockRidge = true;
          break;
      }
    }
  }
  if (nameParts.length > 0) info.name = fromUtf8(concat(nameParts));
  if (linkParts.length > 0) info.target = assembleLink(linkParts);
  return info;
}

function readTimes(e: Uint8Array, info: RockRidgeInfo): void {
  const flags = e[4] ?? 0;
  const long = (flags & 0x80) !== 0;
  const width = long ? 17 : 7;
  let off = 5;
  for (let bit = 0; bit < 7; bit++) {
    if ((flags & (1 << bit)) === 0) continue;
    if (off + width > e.length) return;
    if (bit === 1) info.mtime = long ? readVolumeDate(e, off) : readDirRecordDate(e, off);
    off += width;
  }
}

/** Joins SL component records: `/` between components unless one is the root or continues. */
function assembleLink(parts: Array<{ flags: number; text: Uint8Array }>): string {
  let target = '';
  let slash = false;
  for (const part of parts) {
    if (slash) target += '/';
    const kind = part.flags & 0x0e;
    if (kind === 0x08) target += '/';
    else if (kind === 0x04) target += '..';
    else if (kind === 0x02) target += '.';
    else target += fromUtf8(part.text);
    slash = kind !== 0x08 && (part.flags & 0x01) === 0;
  }
  return target;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function corrupt(message: string): VmkitError {
  return new VmkitError('CORRUPT', `malformed Rock Ridge data: ${message}`);
}
