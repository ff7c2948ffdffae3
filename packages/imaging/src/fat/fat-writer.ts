import { emitProgress, invalidArgument, throwIfAborted, toVmkitError } from '@vmkit/core/spi';
import type { MediaFileResult } from '../iso9660/iso-writer.js';
import type { MediaEntry } from '../media-entry.js';
import { buildMediaTree, type MediaNode } from '../media-tree.js';
import { FileSink, MemorySink, zeroChunks } from '../util/byte-sink.js';
import { PIECES, type Piece, piecesOf } from '../util/file-region.js';
import { nodeContent, nodePieces } from '../util/node-content.js';
import { encodeBootSector, encodeFsInfo } from './fat-boot-sector.js';
import { ATTR, encodeLongEntries, encodeShortEntry } from './fat-dir-entries.js';
import { FAT_SECTOR, type FatType } from './fat-geometry.js';
import {
  defaultFatSize,
  type FatDirectory,
  type FatLayout,
  layoutFat,
  nameDirectories,
} from './fat-layout.js';
import { type ResolvedFatOptions, resolveFatOptions, type WriteFatOptions } from './fat-options.js';
import { encodeFat } from './fat-table.js';

/** Largest file FAT records: 4 GiB - 1. */
export const FAT_MAX_FILE_SIZE = 0xffffffff;
/** Largest image {@link writeFat} builds in memory; use {@link writeFatToFile} beyond. */
export const FAT_MAX_IN_MEMORY = 1024 * 1024 * 1024;

/** A laid-out FAT volume: its size, type and the chunks that make it. */
export interface FatPlan {
  /** Volume size in bytes. */
  readonly size: number;
  /** The FAT type chosen. */
  readonly fatType: FatType;
  /** Cluster size in bytes. */
  readonly clusterBytes: number;
  /** Yields the volume bytes in order; each call starts over. */
  chunks(): AsyncGenerator<Uint8Array>;
}

/**
 * Validates `entries` and `options` and lays out a FAT volume (FAT12/16/32 by size, long file
 * names, label in the boot sector and the root directory) without reading lazily sourced content.
 */
export function planFat(entries: readonly MediaEntry[], options: WriteFatOptions): FatPlan {
  const resolved = resolveFatOptions(options);
  const root = buildMediaTree(entries, { defaultMtime: resolved.timestamp, maxFileSize: FAT_MAX_FILE_SIZE });
  const dirs = nameDirectories(root);
  const size = resolved.sizeBytes ?? defaultFatSize(dirs, resolved.fatType);
  const layout = layoutFat(dirs, size, resolved.fatType);
  return Object.freeze({
    size,
    fatType: layout.geometry.fatType,
    clusterBytes: layout.geometry.clusterBytes,
    chunks: () => emitFat(layout, size, resolved, false) as AsyncGenerator<Uint8Array>,
    [PIECES]: () => emitFat(layout, size, resolved, true),
  });
}

function encodeDirectory(
  dir: FatDirectory,
  layout: FatLayout,
  options: ResolvedFatOptions,
  isRoot: boolean,
): Uint8Array {
  const g = layout.geometry;
  const bytes =
    isRoot && g.fatType !== 32
      ? g.rootDirSectors * FAT_SECTOR
      : Math.max(1, Math.ceil((dir.entryCount * 32) / g.clusterBytes)) * g.clusterBytes;
  const buf = new Uint8Array(bytes);
  let off = 0;
  const cluster = (node: MediaNode) => layout.firstCluster.get(node) ?? 0;
  if (isRoot) {
    const name = new Uint8Array(11).fill(0x20);
    for (let i = 0; i < options.label.length; i++) name[i] = options.label.charCodeAt(i);
    encodeShortEntry(buf, off, {
      name,
      attributes: ATTR.volumeId,
      cluster: 0,
      size: 0,
      mtime: options.timestamp,
    });
    off += 32;
  } else {
    const dot = new Uint8Array(11).fill(0x20);
    dot[0] = 0x2e;
    encodeShortEntry(buf, off, {
      name: dot,
      attributes: ATTR.directory,
      cluster: cluster(dir.node),
      size: 0,
      mtime: dir.node.mtime,
    });
    const dotdot = dot.slice();
    dotdot[1] = 0x2e;
    const parentIsRoot = dir.parent === layout.dirs[0]?.node;
    encodeShortEntry(buf, off + 32, {
      name: dotdot,
      attributes: ATTR.directory,
      cluster: parentIsRoot ? 0 : cluster(dir.parent),
      size: 0,
      mtime: dir.parent.mtime,
    });
    off += 64;
  }
  for (const child of dir.node.children) {
    const name = dir.names.get(child);
    if (!name) continue;
    if (name.long !== undefined) off += encodeLongEntries(buf, off, name.long, name.short);
    const isDir = child.kind === 'directory';
    const readOnly = (child.mode & 0o222) === 0 ? ATTR.readOnly : 0;
    encodeShortEntry(buf, off, {
      name: name.short,
      attributes: (isDir ? ATTR.directory : ATTR.archive) | readOnly,
      cluster: cluster(child),
      size: isDir ? 0 : child.size,
      mtime: child.mtime,
    });
    off += 32;
  }
  return buf;
}

async function* emitFat(
  layout: FatLayout,
  size: number,
  options: ResolvedFatOptions,
  regions: boolean,
): AsyncGenerator<Piece> {
  const g = layout.geometry;
  const { signal, onProgress } = options;
  throwIfAborted(signal, 'writing FAT volume');
  const reserved = new Uint8Array(g.reservedSectors * FAT_SECTOR);
  const boot = encodeBootSector(g, { label: options.label, serial: options.volumeSerial });
  reserved.set(boot, 0);
  if (g.fatType === 32) {
    const free = g.clusterCount - layout.usedClusters;
    const info = encodeFsInfo(free, free > 0 ? 2 + layout.usedClusters : 0xffffffff);
    reserved.set(info, FAT_SECTOR);
    reserved.set(boot, 6 * FAT_SECTOR);
    reserved.set(info, 7 * FAT_SECTOR);
  }
  yield reserved;
  const fat = encodeFat(g, layout.runs);
  for (let i = 0; i < g.numFats; i++) yield fat;
  const dirByNode = new Map(layout.dirs.map((d) => [d.node, d]));
  const root = layout.dirs[0] as FatDirectory;
  if (g.fatType !== 32) yield encodeDirectory(root, layout, options, true);
  let written = g.firstDataSector * FAT_SECTOR;
  for (const run of layout.runs) {
    throwIfAborted(signal, 'writing FAT volume');
    const runBytes = run.count * g.clusterBytes;
    const dir = dirByNode.get(run.node);
    if (dir) {
      yield encodeDirectory(dir, layout, options, dir === root);
    } else {
      yield* regions ? nodePieces(run.node, signal) : nodeContent(run.node, signal);
      yield* zeroChunks(runBytes - run.node.size);
    }
    written += runBytes;
    emitProgress(onProgress, {
      phase: 'transfer',
      fraction: written / size,
      message: `writing FAT volume: ${written} of ${size} bytes`,
    });
  }
  yield* zeroChunks(size - written);
}

/**
 * Writes a FAT volume in memory (up to 1 GiB; use {@link writeFatToFile} beyond): FAT12/16/32
 * chosen by size unless `fatType` is given, VFAT long file names, and the label in both the boot
 * sector and the root directory's volume-label entry. Deterministic for the same input.
 *
 * @throws `INVALID_ARGUMENT` naming the entry or option and the rule broken (names FAT cannot hold,
 * case-insensitive collisions, symlinks, a size too small for the content or the type).
 */
export async function writeFat(
  entries: readonly MediaEntry[],
  options: WriteFatOptions,
): Promise<Uint8Array> {
  const plan = planFat(entries, options);
  if (plan.size > FAT_MAX_IN_MEMORY) {
    throw invalidArgument(
      'options.sizeBytes',
      `in-memory volumes are at most ${FAT_MAX_IN_MEMORY} bytes; use writeFatToFile`,
    );
  }
  const sink = new MemorySink(plan.size);
  try {
    for await (const piece of piecesOf(plan)) await sink.write(piece);
  } catch (error) {
    throw toVmkitError(error, 'CORRUPT', 'writing FAT volume');
  }
  return sink.bytes;
}

/**
 * Writes a FAT volume to `path`, streaming file content and leaving free space sparse; written to
 * a temporary file renamed into place, removed on failure or abort.
 */
export async function writeFatToFile(
  entries: readonly MediaEntry[],
  path: string,
  options: WriteFatOptions,
): Promise<MediaFileResult> {
  const plan = planFat(entries, options);
  const sink = await FileSink.create(path);
  try {
    for await (const piece of piecesOf(plan)) await sink.write(piece);
    await sink.commit(plan.size);
  } catch (error) {
    await sink.discard();
    throw toVmkitError(error, 'CORRUPT', `writing FAT volume ${path}`);
  }
  return Object.freeze({ path, size: plan.size });
}
