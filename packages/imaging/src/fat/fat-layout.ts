import { invalidArgument } from '@vmkit/core/spi';
import type { MediaNode } from '../media-tree.js';
import { checkFatDate, longEntryCount } from './fat-dir-entries.js';
import { chooseGeometry, type FatGeometry, type FatType } from './fat-geometry.js';
import { type FatName, fatNames } from './fat-names.js';
import type { ClusterRun } from './fat-table.js';

/** One directory as laid out. */
export interface FatDirectory {
  readonly node: MediaNode;
  /** Short and long names of the children. */
  readonly names: Map<MediaNode, FatName>;
  /** 32-byte entries it holds (label or dot entries included). */
  readonly entryCount: number;
  /** The parent directory node (the root for the root). */
  readonly parent: MediaNode;
}

/** Where everything of a FAT volume goes. */
export interface FatLayout {
  /** The volume geometry. */
  readonly geometry: FatGeometry;
  /** Directories, parents before children (the root first). */
  readonly dirs: FatDirectory[];
  /** First cluster of each directory and non-empty file (0: FAT12/16 root, empty files). */
  readonly firstCluster: Map<MediaNode, number>;
  /** Cluster runs in ascending order, with the node each holds. */
  readonly runs: Array<ClusterRun & { readonly node: MediaNode }>;
  /** Clusters in use. */
  readonly usedClusters: number;
}

function fieldOf(node: MediaNode): string {
  return node.entryIndex >= 0 ? `entries[${node.entryIndex}].path` : `entries (directory '${node.path}')`;
}

/** Names every directory's children; throws on names FAT cannot hold or that collide. */
export function nameDirectories(root: MediaNode): FatDirectory[] {
  const dirs: FatDirectory[] = [];
  const queue: Array<{ node: MediaNode; parent: MediaNode }> = [{ node: root, parent: root }];
  for (let q = 0; q < queue.length; q++) {
    const { node, parent } = queue[q] as { node: MediaNode; parent: MediaNode };
    if (node.kind === 'symlink') throw invalidArgument(fieldOf(node), 'FAT has no symbolic links');
    checkFatDate(
      node.mtime,
      node.entryIndex >= 0 ? `entries[${node.entryIndex}].mtime` : 'options.timestamp',
    );
    if (node.kind !== 'directory') continue;
    const names = fatNames(node.children, fieldOf);
    let entryCount = node === root ? 1 : 2;
    for (const child of node.children) {
      if (child.kind === 'symlink') throw invalidArgument(fieldOf(child), 'FAT has no symbolic links');
      entryCount += 1 + longEntryCount(names.get(child)?.long);
      queue.push({ node: child, parent: node });
    }
    if (entryCount > 65536)
      throw invalidArgument(fieldOf(node), 'a FAT directory holds at most 65536 entries');
    dirs.push({ node, names, entryCount, parent });
  }
  return dirs;
}

/** Clusters the content needs with clusters of `clusterBytes`, and the root entries needed (FAT12/16). */
function clustersNeeded(dirs: FatDirectory[], clusterBytes: number, fat32: boolean): number {
  let total = 0;
  for (const dir of dirs) {
    if (fat32 || dir !== dirs[0]) total += Math.max(1, Math.ceil((dir.entryCount * 32) / clusterBytes));
    for (const child of dir.node.children)
      if (child.kind === 'file') total += Math.ceil(child.size / clusterBytes);
  }
  return total;
}

/** Root directory entries to reserve on FAT12/16 (at least 512, a whole number of sectors). */
function rootEntriesFor(dirs: FatDirectory[]): number {
  return Math.max(512, Math.ceil((dirs[0] as FatDirectory).entryCount / 16) * 16);
}

/** Picks the volume size when none is given: the smallest whole MiB (growing by a quarter) that fits. */
export function defaultFatSize(dirs: FatDirectory[], fatType: FatType | undefined): number {
  let bytes = 0;
  for (const dir of dirs) for (const child of dir.node.children) bytes += child.size;
  let size = Math.max(1024 * 1024, Math.ceil((bytes * 1.05 + 256 * 1024) / (1024 * 1024)) * 1024 * 1024);
  for (let i = 0; i < 200; i++) {
    try {
      const g = chooseGeometry(size, fatType, rootEntriesFor(dirs));
      if (clustersNeeded(dirs, g.clusterBytes, g.fatType === 32) <= g.clusterCount) return size;
    } catch {
      // this size cannot hold the type; grow
    }
    size = Math.ceil((size * 1.25) / (1024 * 1024)) * 1024 * 1024;
  }
  throw invalidArgument('entries', 'the content does not fit any FAT volume');
}

/** Lays the named directories out on a volume of `sizeBytes`. */
export function layoutFat(dirs: FatDirectory[], sizeBytes: number, fatType: FatType | undefined): FatLayout {
  const geometry = chooseGeometry(sizeBytes, fatType, rootEntriesFor(dirs));
  const fat32 = geometry.fatType === 32;
  const needed = clustersNeeded(dirs, geometry.clusterBytes, fat32);
  if (needed > geometry.clusterCount) {
    throw invalidArgument(
      'options.sizeBytes',
      `${sizeBytes} bytes is too small: the content needs ${needed} clusters of ${geometry.clusterBytes} bytes, the volume has ${geometry.clusterCount}`,
    );
  }
  const firstCluster = new Map<MediaNode, number>();
  const runs: Array<ClusterRun & { node: MediaNode }> = [];
  let next = 2;
  const allocate = (node: MediaNode, bytes: number, atLeastOne: boolean) => {
    const count = Math.max(atLeastOne ? 1 : 0, Math.ceil(bytes / geometry.clusterBytes));
    if (count === 0) {
      firstCluster.set(node, 0);
      return;
    }
    firstCluster.set(node, next);
    runs.push({ first: next, count, node });
    next += count;
  };
  for (const dir of dirs) {
    if (dir === dirs[0] && !fat32) firstCluster.set(dir.node, 0);
    else allocate(dir.node, dir.entryCount * 32, true);
    for (const child of dir.node.children) if (child.kind === 'file') allocate(child, child.size, false);
  }
  return { geometry, dirs, firstCluster, runs, usedClusters: next - 2 };
}
