import { invalidArgument, VmkitError } from '@vmkit/core/spi';
import { read16le, read32le } from '../../util/bytes.js';
import type { FatType } from '../fat-geometry.js';
import { shortNameChecksum } from '../fat-names.js';

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

function corrupt(message: string): VmkitError {
  return new VmkitError('CORRUPT', `not a valid FAT volume: ${message}`);
}

function positiveInteger(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw invalidArgument(field, 'must be a positive integer');
  return value;
}

/** A directory being listed: its bytes, how far it was read, where it sits. */
interface Frame {
  readonly dir: Uint8Array;
  off: number;
  long: { parts: string[]; checksum: number } | undefined;
  readonly parent: string;
  readonly depth: number;
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

function openVolume(bytes: Uint8Array, maxEntries: number, maxDepth: number): FatReader {
  if (bytes.length < 512 || bytes[510] !== 0x55 || bytes[511] !== 0xaa)
    throw corrupt('no boot sector signature');
  const bps = read16le(bytes, 11);
  const spc = bytes[13] ?? 0;
  const reserved = read16le(bytes, 14);
  const numFats = bytes[16] ?? 0;
  const rootEntries = read16le(bytes, 17);
  const totalSectors = read16le(bytes, 19) || read32le(bytes, 32);
  const fatSize = read16le(bytes, 22) || read32le(bytes, 36);
  if (
    ![512, 1024, 2048, 4096].includes(bps) ||
    spc === 0 ||
    (spc & (spc - 1)) !== 0 ||
    numFats === 0 ||
    fatSize === 0
  ) {
    throw corrupt('implausible BIOS parameter block');
  }
  const rootDirSectors = Math.ceil((rootEntries * 32) / bps);
  const firstData = reserved + numFats * fatSize + rootDirSectors;
  const clusterCount = Math.floor((totalSectors - firstData) / spc);
  if (!(clusterCount >= 1)) throw corrupt('no data clusters');
  const fatType: FatType = clusterCount < 4085 ? 12 : clusterCount < 65525 ? 16 : 32;
  if (totalSectors * bps > bytes.length) throw corrupt('the volume is larger than the bytes given');
  const ext = fatType === 32 ? 64 : 36;
  const bootLabel = String.fromCharCode(...bytes.subarray(ext + 7, ext + 18)).replace(/ +$/, '');
  const fatStart = reserved * bps;
  const clusterBytes = spc * bps;
  const next = (n: number): number => {
    if (fatType === 32) return read32le(bytes, fatStart + n * 4) & 0x0fffffff;
    if (fatType === 16) return read16le(bytes, fatStart + n * 2);
    const v = read16le(bytes, fatStart + Math.floor((n * 3) / 2));
    return n % 2 === 0 ? v & 0xfff : v >>> 4;
  };
  const eoc = fatType === 32 ? 0x0ffffff8 : fatType === 16 ? 0xfff8 : 0xff8;
  const chain = (first: number): number[] => {
    const out: number[] = [];
    for (let c = first; c < eoc; c = next(c)) {
      if (c < 2 || c >= clusterCount + 2) throw corrupt(`cluster ${c} is out of range`);
      if (out.length > clusterCount) throw corrupt('cluster chain loops');
      out.push(c);
    }
    return out;
  };
  const clusterData = (clusters: number[]) => {
    const out = new Uint8Array(clusters.length * clusterBytes);
    clusters.forEach((c, i) => {
      const off = (firstData + (c - 2) * spc) * bps;
      out.set(bytes.subarray(off, off + clusterBytes), i * clusterBytes);
    });
    return out;
  };
  const files: FatFileInfo[] = [];
  let label: string | undefined;
  // Every cluster of every directory chain, marked once: a chain that reaches a marked cluster is
  // a loop or shares its clusters with another directory, and the total directory bytes read stay
  // within the volume.
  const dirClusters = new Uint8Array(clusterCount + 2);
  const directoryChain = (first: number, path: string): number[] => {
    const clusters = chain(first);
    for (const c of clusters) {
      if (dirClusters[c] === 1)
        throw corrupt(`directory '${path}' reaches cluster ${c} already read (a loop?)`);
      dirClusters[c] = 1;
    }
    return clusters;
  };
  const rootBytes =
    fatType === 32
      ? clusterData(directoryChain(read32le(bytes, 44), ''))
      : bytes.subarray((reserved + numFats * fatSize) * bps, firstData * bps);
  const stack: Frame[] = [{ dir: rootBytes, off: 0, long: undefined, parent: '', depth: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const child = nextEntry(frame, fatType === 32, (found) => {
      if (label === undefined) label = found;
    });
    if (!child) {
      stack.pop();
      continue;
    }
    if (files.length >= maxEntries) throw corrupt(`more than ${maxEntries} entries (options.maxEntries)`);
    files.push(child);
    if (child.type === 'directory') {
      if (frame.depth + 1 > maxDepth)
        throw corrupt(`directories nest deeper than ${maxDepth} at '${child.path}' (options.maxDepth)`);
      const dir = clusterData(directoryChain(child.cluster, child.path));
      stack.push({ dir, off: 0, long: undefined, parent: child.path, depth: frame.depth + 1 });
    }
  }
  const byPath = new Map(files.map((f) => [f.path, f]));
  return Object.freeze({
    fatType,
    ...(label !== undefined ? { label } : {}),
    bootLabel,
    files: Object.freeze(files),
    async readFile(path: string) {
      if (typeof path !== 'string') throw invalidArgument('path', 'must be a string');
      const entry = byPath.get(path.replace(/^\/+/, ''));
      if (!entry) throw new VmkitError('NOT_FOUND', `no entry '${path}' on the volume`);
      if (entry.type !== 'file') throw invalidArgument('path', `'${path}' is a directory`);
      if (entry.size === 0) return new Uint8Array(0);
      const data = clusterData(chain(entry.cluster));
      if (data.length < entry.size) throw corrupt(`'${path}' is shorter than its recorded size`);
      return data.slice(0, entry.size);
    },
  });
}

const LFN_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/**
 * Reads on in `frame` to its next file or directory entry (advancing `frame.off`), or returns
 * `undefined` at its end. The root's volume label goes to `onLabel`.
 */
function nextEntry(frame: Frame, fat32: boolean, onLabel: (label: string) => void): FatFileInfo | undefined {
  const dir = frame.dir;
  for (; frame.off + 32 <= dir.length; frame.off += 32) {
    const off = frame.off;
    const first = dir[off] ?? 0;
    if (first === 0) break;
    if (first === 0xe5) {
      frame.long = undefined;
      continue;
    }
    const attr = dir[off + 11] ?? 0;
    if ((attr & 0x3f) === 0x0f) {
      let text = '';
      for (const o of LFN_OFFSETS) {
        const unit = read16le(dir, off + o);
        if (unit === 0 || unit === 0xffff) break;
        text += String.fromCharCode(unit);
      }
      if (first & 0x40) frame.long = { parts: [], checksum: dir[off + 13] ?? 0 };
      frame.long?.parts.unshift(text);
      continue;
    }
    const shortBytes = dir.subarray(off, off + 11);
    const base = String.fromCharCode(...shortBytes.subarray(0, 8)).replace(/ +$/, '');
    const extPart = String.fromCharCode(...shortBytes.subarray(8, 11)).replace(/ +$/, '');
    const shortName = extPart ? `${base}.${extPart}` : base;
    const long = frame.long;
    frame.long = undefined;
    if (attr & 0x08) {
      if (frame.parent === '') onLabel(String.fromCharCode(...shortBytes).replace(/ +$/, ''));
      continue;
    }
    if (base === '.' || base === '..') continue;
    const name = long && long.checksum === shortNameChecksum(shortBytes) ? long.parts.join('') : shortName;
    if (
      name === '' ||
      name === '.' ||
      name === '..' ||
      name.includes('/') ||
      name.includes('\\') ||
      name.includes('\u0000')
    ) {
      throw new VmkitError(
        'CORRUPT',
        `refused entry name ${JSON.stringify(name)}: it could escape the target directory`,
      );
    }
    frame.off += 32;
    const isDir = (attr & 0x10) !== 0;
    return {
      path: frame.parent === '' ? name : `${frame.parent}/${name}`,
      shortName,
      size: isDir ? 0 : read32le(dir, off + 28),
      type: isDir ? 'directory' : 'file',
      cluster: (fat32 ? read16le(dir, off + 20) * 0x10000 : 0) + read16le(dir, off + 26),
    };
  }
  frame.off = dir.length;
  return undefined;
}
