import { VmkitError } from '@vmkit/core';
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

/**
 * Reads a FAT12/16/32 volume in memory: boot sector, label, long names (checksums verified) and
 * cluster chains (loops and out-of-range clusters are `CORRUPT`). Names that could escape a target
 * directory are refused.
 */
export async function readFat(bytes: Uint8Array): Promise<FatReader> {
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
  const visited = new Set<number>();
  const walk = (dir: Uint8Array, parent: string) => {
    let long: { parts: string[]; checksum: number } | undefined;
    for (let off = 0; off + 32 <= dir.length; off += 32) {
      const first = dir[off] ?? 0;
      if (first === 0) break;
      if (first === 0xe5) {
        long = undefined;
        continue;
      }
      const attr = dir[off + 11] ?? 0;
      if ((attr & 0x3f) === 0x0f) {
        let text = '';
        for (const o of [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]) {
          const unit = read16le(dir, off + o);
          if (unit === 0 || unit === 0xffff) break;
          text += String.fromCharCode(unit);
        }
        if (first & 0x40) long = { parts: [], checksum: dir[off + 13] ?? 0 };
        long?.parts.unshift(text);
        continue;
      }
      const shortBytes = dir.subarray(off, off + 11);
      const base = String.fromCharCode(...shortBytes.subarray(0, 8)).replace(/ +$/, '');
      const extPart = String.fromCharCode(...shortBytes.subarray(8, 11)).replace(/ +$/, '');
      const shortName = extPart ? `${base}.${extPart}` : base;
      if (attr & 0x08) {
        if (parent === '' && label === undefined)
          label = String.fromCharCode(...shortBytes).replace(/ +$/, '');
        long = undefined;
        continue;
      }
      if (base === '.' || base === '..') {
        long = undefined;
        continue;
      }
      const name = long && long.checksum === shortNameChecksum(shortBytes) ? long.parts.join('') : shortName;
      long = undefined;
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
      const path = parent === '' ? name : `${parent}/${name}`;
      const cluster = (fatType === 32 ? read16le(dir, off + 20) * 0x10000 : 0) + read16le(dir, off + 26);
      const isDir = (attr & 0x10) !== 0;
      files.push({
        path,
        shortName,
        size: isDir ? 0 : read32le(dir, off + 28),
        type: isDir ? 'directory' : 'file',
        cluster,
      });
      if (isDir) {
        if (visited.has(cluster)) throw corrupt(`directory loop at '${path}'`);
        visited.add(cluster);
        walk(clusterData(chain(cluster)), path);
      }
    }
  };
  if (fatType === 32) walk(clusterData(chain(read32le(bytes, 44))), '');
  else walk(bytes.subarray((reserved + numFats * fatSize) * bps, firstData * bps), '');
  const byPath = new Map(files.map((f) => [f.path, f]));
  return Object.freeze({
    fatType,
    ...(label !== undefined ? { label } : {}),
    bootLabel,
    files: Object.freeze(files),
    async readFile(path: string) {
      const entry = byPath.get(path.replace(/^\/+/, ''));
      if (!entry) throw new VmkitError('NOT_FOUND', `no entry '${path}' on the volume`);
      if (entry.type !== 'file') throw new VmkitError('INVALID_ARGUMENT', `path: '${path}' is a directory`);
      if (entry.size === 0) return new Uint8Array(0);
      const data = clusterData(chain(entry.cluster));
      if (data.length < entry.size) throw corrupt(`'${path}' is shorter than its recorded size`);
      return data.slice(0, entry.size);
    },
  });
}
