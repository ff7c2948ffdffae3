import { VmkitError } from '@vmkit/core/spi';
import { read16le, read32le } from '../../util/bytes.js';
import type { FatType } from '../fat-geometry.js';

/** The `CORRUPT` error of a malformed volume. */
export function corruptFat(message: string): VmkitError {
  return new VmkitError('CORRUPT', `not a valid FAT volume: ${message}`);
}

/** What the boot sector says about a FAT volume, checked for plausibility. */
export interface FatBootSector {
  /** FAT12, FAT16 or FAT32, from the cluster count. */
  readonly fatType: FatType;
  /** Label in the boot sector, trailing spaces removed. */
  readonly bootLabel: string;
  /** Bytes per sector. */
  readonly bytesPerSector: number;
  /** Sectors per cluster. */
  readonly sectorsPerCluster: number;
  /** Sector of the first FAT. */
  readonly fatStartSector: number;
  /** Sector of the fixed root directory (FAT12/16). */
  readonly rootDirSector: number;
  /** Sector of cluster 2, the first data cluster. */
  readonly firstDataSector: number;
  /** Number of data clusters. */
  readonly clusterCount: number;
  /** First cluster of the root directory (FAT32). */
  readonly rootCluster: number;
}

/** Reads and checks the boot sector (BIOS parameter block) of the volume in `bytes`. */
export function readBootSector(bytes: Uint8Array): FatBootSector {
  if (bytes.length < 512 || bytes[510] !== 0x55 || bytes[511] !== 0xaa)
    throw corruptFat('no boot sector signature');
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
    throw corruptFat('implausible BIOS parameter block');
  }
  const rootDirSectors = Math.ceil((rootEntries * 32) / bps);
  const firstData = reserved + numFats * fatSize + rootDirSectors;
  const clusterCount = Math.floor((totalSectors - firstData) / spc);
  if (!(clusterCount >= 1)) throw corruptFat('no data clusters');
  const fatType: FatType = clusterCount < 4085 ? 12 : clusterCount < 65525 ? 16 : 32;
  if (totalSectors * bps > bytes.length) throw corruptFat('the volume is larger than the bytes given');
  const ext = fatType === 32 ? 64 : 36;
  return {
    fatType,
    bootLabel: String.fromCharCode(...bytes.subarray(ext + 7, ext + 18)).replace(/ +$/, ''),
    bytesPerSector: bps,
    sectorsPerCluster: spc,
    fatStartSector: reserved,
    rootDirSector: reserved + numFats * fatSize,
    firstDataSector: firstData,
    clusterCount,
    rootCluster: read32le(bytes, 44),
  };
}

/**
 * The clusters of a FAT volume: the table's chains, checked for loops and out-of-range
 * clusters, and their bytes. Directory chains are marked as read, so that a directory reaching a
 * cluster already read (a loop, or clusters shared with another directory) is refused and the
 * directory bytes read stay within the volume.
 */
export class FatClusters {
  readonly #bytes: Uint8Array;
  readonly #boot: FatBootSector;
  readonly #eoc: number;
  readonly #dirClusters: Uint8Array;

  constructor(bytes: Uint8Array, boot: FatBootSector) {
    this.#bytes = bytes;
    this.#boot = boot;
    this.#eoc = boot.fatType === 32 ? 0x0ffffff8 : boot.fatType === 16 ? 0xfff8 : 0xff8;
    this.#dirClusters = new Uint8Array(boot.clusterCount + 2);
  }

  /** The clusters of the chain starting at `first`. */
  chain(first: number): number[] {
    const { clusterCount } = this.#boot;
    const out: number[] = [];
    for (let c = first; c < this.#eoc; c = this.#next(c)) {
      if (c < 2 || c >= clusterCount + 2) throw corruptFat(`cluster ${c} is out of range`);
      if (out.length > clusterCount) throw corruptFat('cluster chain loops');
      out.push(c);
    }
    return out;
  }

  /** The chain of directory `path` starting at `first`, refused when it reaches a cluster already read. */
  directoryChain(first: number, path: string): number[] {
    const clusters = this.chain(first);
    for (const c of clusters) {
      if (this.#dirClusters[c] === 1)
        throw corruptFat(`directory '${path}' reaches cluster ${c} already read (a loop?)`);
      this.#dirClusters[c] = 1;
    }
    return clusters;
  }

  /** The bytes of some clusters, in order. */
  data(clusters: readonly number[]): Uint8Array {
    const { bytesPerSector: bps, sectorsPerCluster: spc, firstDataSector } = this.#boot;
    const clusterBytes = spc * bps;
    const out = new Uint8Array(clusters.length * clusterBytes);
    clusters.forEach((c, i) => {
      const off = (firstDataSector + (c - 2) * spc) * bps;
      out.set(this.#bytes.subarray(off, off + clusterBytes), i * clusterBytes);
    });
    return out;
  }

  /** The root directory's bytes: a cluster chain on FAT32, a fixed area before the data on FAT12/16. */
  rootDirectory(): Uint8Array {
    const boot = this.#boot;
    if (boot.fatType === 32) return this.data(this.directoryChain(boot.rootCluster, ''));
    return this.#bytes.subarray(
      boot.rootDirSector * boot.bytesPerSector,
      boot.firstDataSector * boot.bytesPerSector,
    );
  }

  #next(n: number): number {
    const bytes = this.#bytes;
    const fatStart = this.#boot.fatStartSector * this.#boot.bytesPerSector;
    if (this.#boot.fatType === 32) return read32le(bytes, fatStart + n * 4) & 0x0fffffff;
    if (this.#boot.fatType === 16) return read16le(bytes, fatStart + n * 2);
    const v = read16le(bytes, fatStart + Math.floor((n * 3) / 2));
    return n % 2 === 0 ? v & 0xfff : v >>> 4;
  }
}
