import { VmkitError } from '@vmkit/core/spi';

const SECTOR = 2048;
/** Most extents one file may be recorded in (a 4 TiB file needs about 1,025). */
export const MAX_EXTENTS_PER_FILE = 4096;

/**
 * One budget for the whole listing of an image: directory bytes read and records parsed (at most
 * four times the image size and a multiple of `maxEntries`), SUSP continuation bytes (at most the
 * image size), directory extents that must not overlap and continuation areas that must not be
 * re-used. Hostile images that try to make the reader do more work than the image is large end
 * with `CORRUPT` instead of exhausting memory or time.
 */
export class IsoReadBudget {
  readonly #imageSize: number;
  readonly #maxDirBytes: number;
  readonly #maxRecords: number;
  readonly #maxContinuationBytes: number;
  readonly #dirSectors: Uint8Array;
  readonly #continuations = new Set<number>();
  #dirBytes = 0;
  #records = 0;
  #continuationBytes = 0;

  /** A budget for an image of `imageSize` bytes listing at most `maxEntries` entries. */
  constructor(imageSize: number, maxEntries: number) {
    this.#imageSize = imageSize;
    this.#maxDirBytes = 4 * imageSize;
    this.#maxRecords = 4 * maxEntries + 16;
    this.#maxContinuationBytes = imageSize;
    this.#dirSectors = new Uint8Array(Math.ceil(Math.ceil(imageSize / SECTOR) / 8));
  }

  /** Size of the image in bytes. */
  get imageSize(): number {
    return this.#imageSize;
  }

  /** Claims a directory extent: refused when it lies beyond the image, overlaps one already read, or exceeds the budget. */
  claimDirectory(extent: { lba: number; size: number }, where: string): void {
    const start = extent.lba * SECTOR;
    if (start + extent.size > this.#imageSize) {
      throw corrupt(`${where} (sector ${extent.lba}, ${extent.size} bytes) lies beyond the end of the image`);
    }
    this.#dirBytes += extent.size;
    if (this.#dirBytes > this.#maxDirBytes) {
      throw corrupt(`directories hold more than ${this.#maxDirBytes} bytes, four times the image size`);
    }
    const first = extent.lba;
    const last = extent.lba + Math.max(1, Math.ceil(extent.size / SECTOR)) - 1;
    for (let s = first; s <= last; s++) {
      if (((this.#dirSectors[s >>> 3] ?? 0) & (1 << (s & 7))) !== 0) {
        throw corrupt(
          `${where} overlaps a directory already read at sector ${s} (a loop or a shared extent)`,
        );
      }
    }
    for (let s = first; s <= last; s++)
      this.#dirSectors[s >>> 3] = (this.#dirSectors[s >>> 3] ?? 0) | (1 << (s & 7));
  }

  /** Counts one parsed directory record. */
  countRecord(): void {
    if (++this.#records > this.#maxRecords) {
      throw corrupt(`more than ${this.#maxRecords} directory records (options.maxEntries allows fewer)`);
    }
  }

  /** Claims a SUSP continuation area: it must lie inside the image, not be re-used, and fit the budget. */
  claimContinuation(offset: number, length: number): void {
    if (offset + length > this.#imageSize) {
      throw corrupt(
        `a SUSP continuation area (${length} bytes at ${offset}) lies beyond the end of the image`,
      );
    }
    if (this.#continuations.has(offset)) {
      throw corrupt(`the SUSP continuation area at byte ${offset} is used twice (a loop or a shared area)`);
    }
    this.#continuations.add(offset);
    this.#continuationBytes += length;
    if (this.#continuationBytes > this.#maxContinuationBytes) {
      throw corrupt(
        `SUSP continuation areas hold more than ${this.#maxContinuationBytes} bytes, the image size`,
      );
    }
  }
}

/**
 * Checks the extents of one file: not too many, not overlapping each other, and not more bytes in
 * all than the image holds.
 */
export function checkFileExtents(
  extents: ReadonlyArray<{ readonly lba: number; readonly size: number }>,
  imageSize: number,
  path: string,
): void {
  if (extents.length > MAX_EXTENTS_PER_FILE) {
    throw corrupt(
      `'${path}' is recorded in ${extents.length} extents; at most ${MAX_EXTENTS_PER_FILE} are accepted`,
      path,
    );
  }
  const total = extents.reduce((n, e) => n + e.size, 0);
  if (total > imageSize) {
    throw corrupt(`'${path}' claims ${total} bytes, more than the whole image (${imageSize} bytes)`, path);
  }
  const used = extents
    .filter((e) => e.size > 0)
    .map((e) => ({ start: e.lba * SECTOR, end: e.lba * SECTOR + e.size }))
    .sort((a, b) => a.start - b.start);
  for (let i = 1; i < used.length; i++) {
    if ((used[i]?.start ?? 0) < (used[i - 1]?.end ?? 0)) {
      throw corrupt(`'${path}' has overlapping extents`, path);
    }
  }
}

function corrupt(message: string, path?: string): VmkitError {
  return new VmkitError('CORRUPT', `hostile or malformed ISO 9660 image: ${message}`, {
    ...(path !== undefined ? { details: { path } } : {}),
  });
}
