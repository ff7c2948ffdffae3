import { invalidArgument, VmkitError } from '@vmkit/core/spi';
import type { FatType } from '../fat-geometry.js';
import { listFatEntries } from './fat-directory.js';
import { corruptFat, FatClusters, readBootSector } from './fat-volume.js';

/** One entry of a FAT volume. */
export interface FatFileInfo {
  /** Path with long names, `/`-separated. */
  readonly path: string;
  /** The 8.3 short name as recorded (`USER-D~1`, `README.TXT`). */
  readonly shortName: string;
  /** Size in bytes (0 for directories). */
  readonly size: number;
  /** What the entry is. */
  readonly type: 'file' | 'directory';
  /** First cluster. */
  readonly cluster: number;
}

/** Options of {@link readFat}. */
export interface ReadFatOptions {
  /** Most entries listed before the volume is judged hostile (a positive integer, default 1,000,000). */
  readonly maxEntries?: number;
  /** Deepest directory nesting followed (a positive integer, default 1024). */
  readonly maxDepth?: number;
}

/** A FAT volume opened by {@link readFat}. */
export interface FatReader {
  /** FAT12, FAT16 or FAT32, from the cluster count. */
  readonly fatType: FatType;
  /** Label of the root directory's volume-label entry, trailing spaces removed. */
  readonly label?: string;
  /** Label in the boot sector, trailing spaces removed. */
  readonly bootLabel: string;
  /** Every entry, parents before children. */
  readonly files: readonly FatFileInfo[];
  /** Reads a file's bytes. */
  readFile(path: string): Promise<Uint8Array>;
}

function positiveInteger(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw invalidArgument(field, 'must be a positive integer');
  return value;
}

/**
 * Reads a FAT12/16/32 volume in memory: boot sector, label, long names (checksums verified) and
 * cluster chains. Loops, out-of-range clusters, directory chains sharing a cluster with another
 * directory, nesting deeper than `maxDepth` and more than `maxEntries` entries are `CORRUPT`, as is
 * any other malformed structure. Names that could escape a target directory are refused.
 */
export async function readFat(bytes: Uint8Array, options: ReadFatOptions = {}): Promise<FatReader> {
  const maxEntries = positiveInteger(options.maxEntries, 'options.maxEntries', 1_000_000);
  const maxDepth = positiveInteger(options.maxDepth, 'options.maxDepth', 1024);
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('bytes', 'must be a Uint8Array');
  try {
    return openVolume(bytes, maxEntries, maxDepth);
  } catch (error) {
    if (error instanceof VmkitError) throw error;
    throw new VmkitError('CORRUPT', `not a valid FAT volume: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads the boot sector, lists every entry, and gives the reader over them. */
function openVolume(bytes: Uint8Array, maxEntries: number, maxDepth: number): FatReader {
  const boot = readBootSector(bytes);
  const clusters = new FatClusters(bytes, boot);
  const { files, label } = listFatEntries(clusters, boot.fatType === 32, maxEntries, maxDepth);
  const byPath = new Map(files.map((f) => [f.path, f]));
  return Object.freeze({
    fatType: boot.fatType,
    ...(label !== undefined ? { label } : {}),
    bootLabel: boot.bootLabel,
    files: Object.freeze(files),
    async readFile(path: string) {
      if (typeof path !== 'string') throw invalidArgument('path', 'must be a string');
      const entry = byPath.get(path.replace(/^\/+/, ''));
      if (!entry) throw new VmkitError('NOT_FOUND', `no entry '${path}' on the volume`);
      if (entry.type !== 'file') throw invalidArgument('path', `'${path}' is a directory`);
      if (entry.size === 0) return new Uint8Array(0);
      const data = clusters.data(clusters.chain(entry.cluster));
      if (data.length < entry.size) throw corruptFat(`'${path}' is shorter than its recorded size`);
      return data.slice(0, entry.size);
    },
  });
}
