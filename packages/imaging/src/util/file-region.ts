import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { VmkitError } from '@vmkit/core/spi';

/** Marks a MediaSource made by `fromFile`, holding the file's path. */
export const FILE_PATH = Symbol('vmkit.imaging.filePath');
/** Marks a MediaSource over a byte range of a file, holding the range's first byte. */
export const FILE_OFFSET = Symbol('vmkit.imaging.fileOffset');

/** Content a sink copies straight from a file into its buffer (no intermediate chunks). */
export interface FileRegion {
  readonly kind: 'file-region';
  /** File to read. */
  readonly path: string;
  /** Bytes to read: the size declared when the image was planned. */
  readonly size: number;
  /** First byte of the range read, when the content is a part of the file (the file is then at least `offset + size` long). */
  readonly offset?: number;
  /** The media path, for errors. */
  readonly mediaPath: string;
}

/** A piece of an image as emitted to sinks. */
export type Piece = Uint8Array | FileRegion;

/** True when `piece` is a {@link FileRegion}. */
export function isFileRegion(piece: Piece): piece is FileRegion {
  return !(piece instanceof Uint8Array);
}

/** The error for a file whose size differs from the planned one. */
export function regionChanged(region: FileRegion, actual: number): VmkitError {
  return new VmkitError(
    'CORRUPT',
    `content of '${region.mediaPath}' changed while writing: ${region.path} had ${region.size} bytes when planned, ${actual} now`,
    { details: { path: region.mediaPath, declared: region.size } },
  );
}

/** Opens a region's file and checks it still has the planned size; returns the descriptor. */
export function openRegion(region: FileRegion): number {
  const fd = openSync(region.path, 'r');
  const size = fstatSync(fd).size;
  if (region.offset === undefined ? size !== region.size : size < region.offset + region.size) {
    closeSync(fd);
    throw regionChanged(region, size);
  }
  return fd;
}

/** Reads `length` bytes of an open region at `position` into `target` at `offset`, all or `CORRUPT`. */
export function readRegionInto(
  fd: number,
  region: FileRegion,
  target: Uint8Array,
  offset: number,
  length: number,
  position: number,
): void {
  let done = 0;
  while (done < length) {
    const got = readSync(fd, target, offset + done, length - done, (region.offset ?? 0) + position + done);
    if (got === 0) throw regionChanged(region, position + done);
    done += got;
  }
}

/** Internal: the pieces of a plan, with file regions sinks copy directly. */
export const PIECES = Symbol('vmkit.imaging.pieces');

/** The pieces of a plan made by this package (file regions included), else its chunks. */
export function piecesOf(plan: { chunks(): AsyncGenerator<Uint8Array> }): AsyncGenerator<Piece> {
  const internal = (plan as { [PIECES]?: () => AsyncGenerator<Piece> })[PIECES];
  return internal ? internal() : plan.chunks();
}
