import { emitProgress, throwIfAborted, toVmkitError } from '@vmkit/core/spi';
import type { MediaEntry } from '../media-entry.js';
import { buildMediaTree, type MediaNode, walkTree } from '../media-tree.js';
import { FileSink, MemorySink, zeroChunks } from '../util/byte-sink.js';
import { PIECES, type Piece, piecesOf } from '../util/file-region.js';
import { nodeContent, nodePieces } from '../util/node-content.js';
import {
  type BootImagePatch,
  type BootPlan,
  HYBRID_MIN_PADDING,
  hiddenSizes,
  planBoot,
  withCatalog,
} from './boot/boot-plan.js';
import { encodeBootRecord, patchBootImage } from './boot/el-torito-encode.js';
import {
  encodeAreas,
  encodeDirectory,
  encodePathTables,
  encodeTerminator,
  encodeVolumeDescriptor,
} from './iso-encode.js';
import { type IsoLayout, layoutIso } from './iso-layout.js';
import {
  ISO_MAX_FILE_SIZE,
  type ResolvedIso9660Options,
  resolveIso9660Options,
  type WriteIso9660Options,
} from './iso-options.js';
import { checkIsoDate } from './iso-time.js';
import { SECTOR } from './system-use.js';

/** A laid-out image: its size and the chunks that make it. */
export interface Iso9660Plan {
  /** Image size in bytes. */
  readonly size: number;
  /** Yields the image bytes in order; each call starts over (sources are opened again). */
  chunks(): AsyncGenerator<Uint8Array>;
}

/**
 * Validates `entries` and `options` and lays out an ISO 9660 image (ECMA-119 level 1 or 2 names,
 * Joliet, Rock Ridge) without reading any lazily sourced content yet. The same input always gives
 * the same bytes.
 */
export function planIso9660(entries: readonly MediaEntry[], options: WriteIso9660Options): Iso9660Plan {
  let resolved = resolveIso9660Options(options);
  const boot = resolved.boot;
  const withBoot = boot ? withCatalog(entries, boot) : undefined;
  if (boot?.hybrid && resolved.padding < HYBRID_MIN_PADDING)
    resolved = { ...resolved, padding: HYBRID_MIN_PADDING };
  const root = buildMediaTree(withBoot?.entries ?? entries, {
    defaultMtime: resolved.timestamp,
    maxFileSize: ISO_MAX_FILE_SIZE,
  });
  for (const node of walkTree(root)) {
    checkIsoDate(
      node.mtime,
      node.entryIndex >= 0 ? `entries[${node.entryIndex}].mtime` : 'options.timestamp',
    );
  }
  const layout = layoutIso(root, { ...resolved, bootRecord: boot !== undefined, hidden: hiddenSizes(boot) });
  const bootPlan =
    boot && withBoot ? planBoot(root, layout, boot, withBoot.catalog, resolved.volumeId) : undefined;
  return Object.freeze({
    size: layout.totalSectors * SECTOR,
    chunks: () => emitIso(layout, resolved, bootPlan, false) as AsyncGenerator<Uint8Array>,
    [PIECES]: () => emitIso(layout, resolved, bootPlan, true),
  });
}

function encodeMetadata(
  layout: IsoLayout,
  options: ResolvedIso9660Options,
  boot: BootPlan | undefined,
): { metadata: Uint8Array; backupGpt: Uint8Array | undefined } {
  const buf = new Uint8Array(layout.metadataSectors * SECTOR);
  const identity = { ...options };
  const backupGpt = boot?.systemArea(buf.subarray(0, 16 * SECTOR));
  encodeVolumeDescriptor(buf, 16, layout.primary, layout, identity, false);
  let next = 17;
  if (boot) encodeBootRecord(buf.subarray(SECTOR * next++, SECTOR * next), boot.catalogLba);
  if (layout.joliet) encodeVolumeDescriptor(buf, next++, layout.joliet, layout, identity, true);
  encodeTerminator(buf, next);
  for (const tree of layout.joliet ? [layout.primary, layout.joliet] : [layout.primary]) {
    encodePathTables(buf, tree);
    for (const dir of tree.dirs) encodeDirectory(buf, dir, tree, layout);
  }
  encodeAreas(buf, layout);
  return { metadata: buf, backupGpt };
}

/** A BIOS boot image's content in memory, patched for where it was placed. */
async function patchedContent(
  node: MediaNode,
  patch: BootImagePatch,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(node.size);
  let off = 0;
  for await (const chunk of nodeContent(node, signal)) {
    bytes.set(chunk, off);
    off += chunk.length;
  }
  patchBootImage(bytes, patch.lba, patch);
  return bytes;
}

async function* emitIso(
  layout: IsoLayout,
  options: ResolvedIso9660Options,
  boot: BootPlan | undefined,
  regions: boolean,
): AsyncGenerator<Piece> {
  const { signal, onProgress } = options;
  throwIfAborted(signal, 'writing ISO 9660 image');
  const total = layout.totalSectors * SECTOR;
  const { metadata, backupGpt } = encodeMetadata(layout, options, boot);
  yield metadata;
  let written = layout.metadataSectors * SECTOR;
  let reported = written;
  for (const node of [...layout.files, ...(boot?.hidden ?? [])]) {
    throwIfAborted(signal, 'writing ISO 9660 image');
    const patch = boot?.patches.get(node);
    if (patch) yield await patchedContent(node, patch, signal);
    else yield* regions ? nodePieces(node, signal) : nodeContent(node, signal);
    const padded = Math.ceil(node.size / SECTOR) * SECTOR;
    yield* zeroChunks(padded - node.size);
    written += padded;
    if (onProgress && (written - reported >= 8 * 1024 * 1024 || written === total)) {
      reported = written;
      emitProgress(onProgress, {
        phase: 'transfer',
        fraction: written / total,
        message: `writing ISO 9660 image: ${written} of ${total} bytes`,
      });
    }
  }
  const tail = backupGpt?.length ?? 0;
  yield* zeroChunks(total - written - tail);
  if (backupGpt) yield backupGpt;
  if (onProgress && reported < total) {
    emitProgress(onProgress, {
      phase: 'transfer',
      fraction: 1,
      message: `writing ISO 9660 image: ${total} of ${total} bytes`,
    });
  }
}

/**
 * Writes an ISO 9660 image in memory: ECMA-119 with Joliet (Unicode names) and Rock Ridge (long
 * POSIX names, modes, symlinks) by default. Output is deterministic for the same input. For large
 * images prefer {@link writeIso9660ToFile}.
 *
 * @throws `INVALID_ARGUMENT` naming the entry or option and the rule broken (bad names, files over
 * 4 GiB - 1, duplicate paths, bad label); `ABORTED` when `options.signal` fires.
 */
export async function writeIso9660(
  entries: readonly MediaEntry[],
  options: WriteIso9660Options,
): Promise<Uint8Array> {
  const image = planIso9660(entries, options);
  const sink = new MemorySink(image.size);
  try {
    for await (const piece of piecesOf(image)) await sink.write(piece);
  } catch (error) {
    throw toVmkitError(error, 'CORRUPT', 'writing ISO 9660 image');
  }
  return sink.bytes;
}

/** What {@link writeIso9660ToFile} wrote. */
export interface MediaFileResult {
  /** The file written. */
  readonly path: string;
  /** Its size in bytes. */
  readonly size: number;
}

/**
 * Writes an ISO 9660 image to `path`, streaming file content (use {@link fromFile} or
 * {@link fromStream} sources) so large inputs are never held in memory. The image is written to a
 * temporary file renamed into place at the end; on failure or abort nothing is left behind.
 */
export async function writeIso9660ToFile(
  entries: readonly MediaEntry[],
  path: string,
  options: WriteIso9660Options,
): Promise<MediaFileResult> {
  const image = planIso9660(entries, options);
  const sink = await FileSink.create(path);
  try {
    for await (const piece of piecesOf(image)) await sink.write(piece);
    await sink.commit(image.size);
  } catch (error) {
    await sink.discard();
    throw toVmkitError(error, 'CORRUPT', `writing ISO 9660 image ${path}`);
  }
  return Object.freeze({ path, size: image.size });
}
