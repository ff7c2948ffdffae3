import type { MediaNode } from '../media-tree.js';
import { both32, utf8 } from '../util/bytes.js';
import { dirRecordDate } from './iso-time.js';

/** RRIP 1.10 extension identifier, as recorded in the ER entry and checked by readers. */
export const RRIP_ID = 'RRIP_1991A';
const RRIP_DESCRIPTOR = 'ROCK RIDGE INTERCHANGE PROTOCOL (IEEE P1282): POSIX FILE SYSTEM SEMANTICS';
const RRIP_SOURCE = 'SEE IEEE P1282 / RRIP 1.10; WRITTEN BY VMKIT IMAGING';

/** Longest SUSP entry (its length is one byte). */
export const MAX_SUSP_ENTRY = 255;
/** Length of a CE (continuation area) entry. */
export const CE_LENGTH = 28;

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** RR entry flag bits (RRIP 1.10 4.1.1): which RRIP entries this record carries. */
const RR_PX = 0x01;
const RR_SL = 0x04;
const RR_NM = 0x08;
const RR_TF = 0x80;

function header(sig: string, length: number, version = 1): Uint8Array {
  const entry = new Uint8Array(length);
  entry[0] = sig.charCodeAt(0);
  entry[1] = sig.charCodeAt(1);
  entry[2] = length;
  entry[3] = version;
  return entry;
}

/** SUSP SP: marks the use of SUSP, first entry of the root's `.` record. */
export function spEntry(): Uint8Array {
  const e = header('SP', 7);
  e[4] = 0xbe;
  e[5] = 0xef;
  e[6] = 0;
  return e;
}

/** SUSP ER: names the Rock Ridge extension. */
export function erEntry(): Uint8Array {
  const id = utf8(RRIP_ID);
  const des = utf8(RRIP_DESCRIPTOR);
  const src = utf8(RRIP_SOURCE);
  const e = header('ER', 8 + id.length + des.length + src.length);
  e[4] = id.length;
  e[5] = des.length;
  e[6] = src.length;
  e[7] = 1;
  e.set(id, 8);
  e.set(des, 8 + id.length);
  e.set(src, 8 + id.length + des.length);
  return e;
}

/** SUSP CE: points at a continuation area. */
export function ceEntry(block: number, offset: number, length: number): Uint8Array {
  const e = header('CE', CE_LENGTH);
  both32(e, 4, block);
  both32(e, 12, offset);
  both32(e, 20, length);
  return e;
}

/** RRIP PX: POSIX mode, link count, owner (root) and group (root). */
export function pxEntry(node: MediaNode, links: number): Uint8Array {
  const type = node.kind === 'directory' ? S_IFDIR : node.kind === 'symlink' ? S_IFLNK : S_IFREG;
  const e = header('PX', 36);
  both32(e, 4, type | node.mode);
  both32(e, 12, links);
  both32(e, 20, 0);
  both32(e, 28, 0);
  return e;
}

/** RRIP TF: modification, access and attribute-change times, all the node's mtime. */
export function tfEntry(node: MediaNode): Uint8Array {
  const e = header('TF', 5 + 7 * 3);
  e[4] = 0x02 | 0x04 | 0x08;
  for (let i = 0; i < 3; i++) dirRecordDate(node.mtime, e, 5 + 7 * i);
  return e;
}

/** RRIP RR (1.10): the set of RRIP entries present in the record. */
export function rrEntry(flags: number): Uint8Array {
  const e = header('RR', 5);
  e[4] = flags;
  return e;
}

/** RRIP NM: the POSIX name, split into several entries (CONTINUE flag) when long. */
export function nmEntries(name: string): Uint8Array[] {
  const bytes = utf8(name);
  const room = MAX_SUSP_ENTRY - 5;
  const out: Uint8Array[] = [];
  for (let off = 0; off < bytes.length || out.length === 0; off += room) {
    const piece = bytes.subarray(off, off + room);
    const e = header('NM', 5 + piece.length);
    e[4] = off + room < bytes.length ? 0x01 : 0;
    e.set(piece, 5);
    out.push(e);
  }
  return out;
}

/** RRIP SL: a symlink target as component records, packed into as many SL entries as needed. */
export function slEntries(target: string): Uint8Array[] {
  const records: Uint8Array[] = [];
  const maxText = MAX_SUSP_ENTRY - 5 - 2;
  const parts = target.split('/');
  if (target.startsWith('/')) records.push(Uint8Array.of(0x08, 0));
  for (const part of parts) {
    if (part === '') continue;
    if (part === '.') records.push(Uint8Array.of(0x02, 0));
    else if (part === '..') records.push(Uint8Array.of(0x04, 0));
    else {
      const bytes = utf8(part);
      for (let off = 0; off < bytes.length; off += maxText) {
        const piece = bytes.subarray(off, off + maxText);
        const rec = new Uint8Array(2 + piece.length);
        rec[0] = off + maxText < bytes.length ? 0x01 : 0;
        rec[1] = piece.length;
        rec.set(piece, 2);
        records.push(rec);
      }
    }
  }
  const entries: Array<Uint8Array[]> = [[]];
  let used = 5;
  for (const rec of records) {
    if (used + rec.length > MAX_SUSP_ENTRY) {
      entries.push([]);
      used = 5;
    }
    (entries[entries.length - 1] as Uint8Array[]).push(rec);
    used += rec.length;
  }
  return entries.map((recs, i) => {
    const length = 5 + recs.reduce((n, r) => n + r.length, 0);
    const e = header('SL', length);
    e[4] = i < entries.length - 1 ? 0x01 : 0;
    let off = 5;
    for (const r of recs) {
      e.set(r, off);
      off += r.length;
    }
    return e;
  });
}

/** Which record of a directory the entries are for. */
export type RecordRole = 'root-dot' | 'dot' | 'dotdot' | 'child';

/** The Rock Ridge entries of one directory record, in recording order (ER last). */
export function rockRidgeEntries(node: MediaNode, role: RecordRole): Uint8Array[] {
  const links =
    node.kind === 'directory' ? 2 + node.children.filter((c) => c.kind === 'directory').length : 1;
  const named = role === 'child';
  const link = named && node.kind === 'symlink';
  const flags = RR_PX | RR_TF | (named ? RR_NM : 0) | (link ? RR_SL : 0);
  const out: Uint8Array[] = [];
  if (role === 'root-dot') out.push(spEntry());
  out.push(rrEntry(flags), pxEntry(node, links), tfEntry(node));
  if (named) out.push(...nmEntries(node.name));
  if (link) out.push(...slEntries(node.target as string));
  if (role === 'root-dot') out.push(erEntry());
  return out;
}
