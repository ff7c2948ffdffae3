import type { MediaNode } from '../media-tree.js';
import { both16, both32, putAscii, putUcs2be, u16be, u16le, u32be, u32le } from '../util/bytes.js';
import type { IsoDirectory, IsoLayout, IsoRecord, IsoTree } from './iso-layout.js';
import { dirRecordDate, volumeDate } from './iso-time.js';
import { ceEntry } from './rock-ridge.js';
import { SECTOR } from './system-use.js';

/** Identification recorded in the volume descriptors. */
export interface VolumeIdentity {
  /** Volume identifier (the label). */
  readonly volumeId: string;
  /** System identifier. */
  readonly systemId: string;
  /** Volume set identifier. */
  readonly volumeSetId: string;
  /** Publisher identifier. */
  readonly publisher: string;
  /** Data preparer identifier. */
  readonly preparer: string;
  /** Application identifier. */
  readonly applicationId: string;
  /** Creation and modification time of the volume. */
  readonly timestamp: Date;
  /** Raw creation and modification dates, recorded instead of `timestamp` when given. */
  readonly volumeDates?: { readonly created: Uint8Array; readonly modified: Uint8Array };
}

/** Encodes one directory record at `off` of `buf`. */
function encodeRecord(
  buf: Uint8Array,
  off: number,
  record: IsoRecord,
  extent: { lba: number; size: number; directory: boolean },
  layout: IsoLayout,
): void {
  buf[off] = record.length;
  buf[off + 1] = 0;
  both32(buf, off + 2, extent.lba);
  both32(buf, off + 10, extent.size);
  dirRecordDate(record.node.mtime, buf, off + 18);
  buf[off + 25] = extent.directory ? 0x02 : 0;
  buf[off + 26] = 0;
  buf[off + 27] = 0;
  both16(buf, off + 28, 1);
  buf[off + 32] = record.identifier.length;
  buf.set(record.identifier, off + 33);
  let su = off + 33 + record.identifier.length + (record.identifier.length % 2 === 0 ? 1 : 0);
  const plan = record.systemUse;
  if (!plan) return;
  for (const entry of plan.inline) {
    buf.set(entry, su);
    su += entry.length;
  }
  if (plan.continuation !== undefined) {
    const area = layout.areas[plan.continuation];
    if (area) buf.set(ceEntry(area.lba, area.offset, area.length), su);
  }
}

function extentOf(node: MediaNode, tree: IsoTree, layout: IsoLayout) {
  if (node.kind === 'directory') {
    const dir = tree.byNode.get(node) as IsoDirectory;
    return { lba: dir.lba, size: dir.size, directory: true };
  }
  return { lba: layout.fileLba.get(node) ?? 0, size: node.kind === 'file' ? node.size : 0, directory: false };
}

/** Encodes the extent of `dir` into `buf` at its sector. */
export function encodeDirectory(buf: Uint8Array, dir: IsoDirectory, tree: IsoTree, layout: IsoLayout): void {
  const base = dir.lba * SECTOR;
  for (const record of dir.records) {
    encodeRecord(buf, base + record.offset, record, extentOf(record.node, tree, layout), layout);
  }
}

/** Encodes every continuation area into `buf`. */
export function encodeAreas(buf: Uint8Array, layout: IsoLayout): void {
  for (const area of layout.areas) {
    let off = area.lba * SECTOR + area.offset;
    for (const entry of area.entries) {
      buf.set(entry, off);
      off += entry.length;
    }
    if (area.next !== undefined) {
      const next = layout.areas[area.next];
      if (next) buf.set(ceEntry(next.lba, next.offset, next.length), off);
    }
  }
}

/** Encodes the L and M path tables of `tree` (ECMA-119 9.4). */
export function encodePathTables(buf: Uint8Array, tree: IsoTree): void {
  let l = tree.lPathLba * SECTOR;
  let m = tree.mPathLba * SECTOR;
  for (const dir of tree.dirs) {
    for (const big of [false, true]) {
      const off = big ? m : l;
      buf[off] = dir.identifier.length;
      buf[off + 1] = 0;
      if (big) {
        u32be(buf, off + 2, dir.lba);
        u16be(buf, off + 6, dir.parentNumber);
      } else {
        u32le(buf, off + 2, dir.lba);
        u16le(buf, off + 6, dir.parentNumber);
      }
      buf.set(dir.identifier, off + 8);
    }
    const length = 8 + dir.identifier.length + (dir.identifier.length % 2);
    l += length;
    m += length;
  }
}

/**
 * Encodes a primary (type 1) or Joliet supplementary (type 2, UCS-2 level 3) volume descriptor
 * (ECMA-119 8.4 and 8.5) at sector `lba`.
 */
export function encodeVolumeDescriptor(
  buf: Uint8Array,
  lba: number,
  tree: IsoTree,
  layout: IsoLayout,
  identity: VolumeIdentity,
  joliet: boolean,
): void {
  const d = buf.subarray(lba * SECTOR, (lba + 1) * SECTOR);
  d[0] = joliet ? 2 : 1;
  putAscii(d, 1, 5, 'CD001');
  d[6] = 1;
  const text = (off: number, width: number, value: string) =>
    joliet ? putUcs2be(d, off, width, value.slice(0, Math.floor(width / 2))) : putAscii(d, off, width, value);
  text(8, 32, identity.systemId);
  text(40, 32, identity.volumeId);
  both32(d, 80, layout.totalSectors);
  if (joliet) putAscii(d, 88, 3, '%/E');
  both16(d, 120, 1);
  both16(d, 124, 1);
  both16(d, 128, SECTOR);
  both32(d, 132, tree.pathTableSize);
  u32le(d, 140, tree.lPathLba);
  u32be(d, 148, tree.mPathLba);
  const root = tree.dirs[0] as IsoDirectory;
  const rootRecord = new Uint8Array(34);
  rootRecord[0] = 34;
  both32(rootRecord, 2, root.lba);
  both32(rootRecord, 10, root.size);
  dirRecordDate(root.node.mtime, rootRecord, 18);
  rootRecord[25] = 0x02;
  both16(rootRecord, 28, 1);
  rootRecord[32] = 1;
  d.set(rootRecord, 156);
  text(190, 128, identity.volumeSetId);
  text(318, 128, identity.publisher);
  text(446, 128, identity.preparer);
  text(574, 128, identity.applicationId);
  text(702, 37, '');
  text(739, 37, '');
  text(776, 37, '');
  volumeDate(identity.timestamp, d, 813);
  volumeDate(identity.timestamp, d, 830);
  if (identity.volumeDates) {
    d.set(identity.volumeDates.created, 813);
    d.set(identity.volumeDates.modified, 830);
  }
  volumeDate(undefined, d, 847);
  volumeDate(identity.timestamp, d, 864);
  d[881] = 1;
}

/** Encodes the volume descriptor set terminator (type 255) at sector `lba`. */
export function encodeTerminator(buf: Uint8Array, lba: number): void {
  const d = buf.subarray(lba * SECTOR, (lba + 1) * SECTOR);
  d[0] = 255;
  putAscii(d, 1, 5, 'CD001');
  d[6] = 1;
}
