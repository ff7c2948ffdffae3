import { invalidArgument } from '@vmkit/core/spi';
import type { MediaNode } from '../media-tree.js';
import { latin1, utf16be } from '../util/bytes.js';
import { type IsoIdentifier, type IsoLevel, jolietIdentifiers, primaryIdentifiers } from './iso-names.js';
import { type RecordRole, rockRidgeEntries } from './rock-ridge.js';
import {
  type ContinuationArea,
  placeAreas,
  planSystemUse,
  SECTOR,
  type SystemUsePlan,
} from './system-use.js';

/** One directory record as laid out. */
export interface IsoRecord {
  /** The node described (the directory itself for `.`, its parent for `..`). */
  readonly node: MediaNode;
  /** Which record this is. */
  readonly role: RecordRole;
  /** Identifier bytes. */
  readonly identifier: Uint8Array;
  /** System use entries (Rock Ridge), primary tree only. */
  readonly systemUse?: SystemUsePlan;
  /** Total record length (even). */
  readonly length: number;
  /** Offset in the directory's extent. */
  readonly offset: number;
}

/** One directory of one namespace (primary or Joliet). */
export interface IsoDirectory {
  /** The directory. */
  readonly node: MediaNode;
  /** Path table number (1 for the root). */
  readonly number: number;
  /** Path table number of the parent. */
  readonly parentNumber: number;
  /** Identifier in the path table (`\0` for the root). */
  readonly identifier: Uint8Array;
  /** The records, in order. */
  readonly records: IsoRecord[];
  /** Extent size, a multiple of the sector size. */
  readonly size: number;
  /** First sector. */
  lba: number;
}

/** The directory hierarchy of one namespace. */
export interface IsoTree {
  /** Directories in path table order. */
  readonly dirs: IsoDirectory[];
  /** Directory of each directory node. */
  readonly byNode: Map<MediaNode, IsoDirectory>;
  /** Size in bytes of one path table. */
  readonly pathTableSize: number;
  /** Sector of the L (little-endian) path table. */
  lPathLba: number;
  /** Sector of the M (big-endian) path table. */
  mPathLba: number;
}

/** Where everything of an image goes. */
export interface IsoLayout {
  /** ECMA-119 names, with Rock Ridge entries when enabled. */
  readonly primary: IsoTree;
  /** Joliet names, when enabled. */
  readonly joliet?: IsoTree;
  /** Continuation areas of Rock Ridge entries. */
  readonly areas: ContinuationArea[];
  /** First sector of each file's data (0 for empty files and symlinks). */
  readonly fileLba: Map<MediaNode, number>;
  /** Files with data, in the order their data is recorded. */
  readonly files: MediaNode[];
  /** Sectors before the first file's data. */
  readonly metadataSectors: number;
  /** Sectors of the whole image. */
  readonly totalSectors: number;
  /** First sector of each hidden boot image, in the order given. */
  readonly hiddenLba: readonly number[];
}

/** Layout options. */
export interface IsoLayoutOptions {
  /** Name level of the primary namespace. */
  readonly isoLevel: IsoLevel;
  /** Record Joliet names. */
  readonly joliet: boolean;
  /** Record Rock Ridge entries. */
  readonly rockRidge: boolean;
  /** Trailing zero bytes counted in the volume (a multiple of the sector size). */
  readonly padding: number;
  /** Reserve a sector for an El Torito boot record after the primary descriptor. */
  readonly bootRecord?: boolean;
  /** Sizes in bytes of hidden boot images, recorded after the files with no directory record. */
  readonly hidden?: readonly number[];
}

/** Lays out a validated tree: directories, path tables, continuation areas and file extents. */
export function layoutIso(root: MediaNode, options: IsoLayoutOptions): IsoLayout {
  const areas: ContinuationArea[] = [];
  const primary = layoutTree(
    root,
    (children) => primaryIdentifiers(children, options.isoLevel),
    latin1,
    options.rockRidge ? areas : undefined,
  );
  const joliet = options.joliet ? layoutTree(root, jolietIdentifiers, utf16be, undefined) : undefined;
  let lba = 16 + 1 + (options.bootRecord ? 1 : 0) + (joliet ? 1 : 0) + 1;
  for (const tree of joliet ? [primary, joliet] : [primary]) {
    const sectors = Math.ceil(tree.pathTableSize / SECTOR);
    tree.lPathLba = lba;
    tree.mPathLba = lba + sectors;
    lba += 2 * sectors;
  }
  for (const dir of primary.dirs) {
    dir.lba = lba;
    lba += dir.size / SECTOR;
  }
  lba += placeAreas(areas, lba);
  for (const dir of joliet?.dirs ?? []) {
    dir.lba = lba;
    lba += dir.size / SECTOR;
  }
  const metadataSectors = lba;
  const fileLba = new Map<MediaNode, number>();
  const files: MediaNode[] = [];
  for (const dir of primary.dirs) {
    for (const record of dir.records) {
      if (record.role !== 'child' || record.node.kind !== 'file') continue;
      if (record.node.size === 0) {
        fileLba.set(record.node, 0);
        continue;
      }
      fileLba.set(record.node, lba);
      files.push(record.node);
      lba += Math.ceil(record.node.size / SECTOR);
    }
  }
  const hiddenLba: number[] = [];
  for (const size of options.hidden ?? []) {
    hiddenLba.push(lba);
    lba += Math.ceil(size / SECTOR);
  }
  lba += options.padding / SECTOR;
  if (lba > 0xffffffff) throw invalidArgument('entries', 'the image would exceed 2^32 sectors (8 TiB)');
  return {
    primary,
    ...(joliet ? { joliet } : {}),
    areas,
    fileLba,
    files,
    metadataSectors,
    totalSectors: lba,
    hiddenLba,
  };
}

function layoutTree(
  root: MediaNode,
  name: (children: readonly MediaNode[]) => IsoIdentifier[],
  encode: (text: string) => Uint8Array,
  areas: ContinuationArea[] | undefined,
): IsoTree {
  const dirs: IsoDirectory[] = [];
  const byNode = new Map<MediaNode, IsoDirectory>();
  const queue: Array<{ node: MediaNode; parent: MediaNode; parentNumber: number; identifier: Uint8Array }> = [
    { node: root, parent: root, parentNumber: 1, identifier: Uint8Array.of(0) },
  ];
  let pathTableSize = 0;
  for (let q = 0; q < queue.length; q++) {
    const item = queue[q] as (typeof queue)[number];
    const number = q + 1;
    const records: IsoRecord[] = [];
    let offset = 0;
    const add = (node: MediaNode, role: RecordRole, identifier: Uint8Array) => {
      const head = 33 + identifier.length + (identifier.length % 2 === 0 ? 1 : 0);
      const systemUse = areas ? planSystemUse(rockRidgeEntries(node, role), head, areas) : undefined;
      let length = head + (systemUse?.inlineLength ?? 0);
      length += length % 2;
      if ((offset % SECTOR) + length > SECTOR) offset += SECTOR - (offset % SECTOR);
      records.push({ node, role, identifier, ...(systemUse ? { systemUse } : {}), length, offset });
      offset += length;
    };
    add(item.node, item.node === root ? 'root-dot' : 'dot', Uint8Array.of(0));
    add(item.parent, 'dotdot', Uint8Array.of(1));
    for (const id of name(item.node.children)) {
      const identifier = encode(id.recorded);
      add(id.node, 'child', identifier);
      if (id.node.kind === 'directory') {
        queue.push({ node: id.node, parent: item.node, parentNumber: number, identifier });
      }
    }
    const dir: IsoDirectory = {
      node: item.node,
      number,
      parentNumber: item.parentNumber,
      identifier: item.identifier,
      records,
      size: Math.max(SECTOR, Math.ceil(offset / SECTOR) * SECTOR),
      lba: 0,
    };
    if (number > 0xffff)
      throw invalidArgument('entries', 'ISO 9660 path tables hold at most 65535 directories');
    dirs.push(dir);
    byNode.set(item.node, dir);
    pathTableSize += 8 + item.identifier.length + (item.identifier.length % 2);
  }
  return { dirs, byNode, pathTableSize, lPathLba: 0, mPathLba: 0 };
}
