import { invalidArgument } from '@vmkit/core/spi';

/** The FAT variant: entry width in bits. */
export type FatType = 12 | 16 | 32;

/** Bytes per sector of every image written here. */
export const FAT_SECTOR = 512;

/** Cluster count bounds of each type (Microsoft FAT specification, "FAT type determination"). */
export const CLUSTER_LIMITS: Record<FatType, { min: number; max: number }> = {
  12: { min: 1, max: 4084 },
  16: { min: 4085, max: 65524 },
  32: { min: 65525, max: 0x0ffffff5 },
};

/** The layout of a FAT volume. */
export interface FatGeometry {
  /** FAT12, FAT16 or FAT32. */
  readonly fatType: FatType;
  /** Sectors of 512 bytes in the volume. */
  readonly totalSectors: number;
  /** Sectors per cluster (a power of two). */
  readonly sectorsPerCluster: number;
  /** Sectors before the first FAT (boot sector, FSInfo, backups). */
  readonly reservedSectors: number;
  /** Copies of the FAT. */
  readonly numFats: number;
  /** Root directory entries (FAT12/16; 0 on FAT32). */
  readonly rootEntries: number;
  /** Sectors of the fixed root directory (FAT12/16). */
  readonly rootDirSectors: number;
  /** Sectors of one FAT. */
  readonly fatSectors: number;
  /** First sector of cluster 2. */
  readonly firstDataSector: number;
  /** Data clusters, numbered from 2. */
  readonly clusterCount: number;
  /** Bytes per cluster. */
  readonly clusterBytes: number;
}

/** Computes the geometry for a fixed type, cluster size and root size; undefined when the count misfits the type. */
export function computeGeometry(
  totalSectors: number,
  fatType: FatType,
  sectorsPerCluster: number,
  rootEntries: number,
): FatGeometry | undefined {
  const reservedSectors = fatType === 32 ? 32 : 1;
  const numFats = 2;
  const root = fatType === 32 ? 0 : rootEntries;
  const rootDirSectors = Math.ceil((root * 32) / FAT_SECTOR);
  let fatSectors = 1;
  let clusterCount = 0;
  for (let i = 0; i < 64; i++) {
    const dataSectors = totalSectors - reservedSectors - numFats * fatSectors - rootDirSectors;
    if (dataSectors < sectorsPerCluster) return undefined;
    clusterCount = Math.floor(dataSectors / sectorsPerCluster);
    const fatBytes = Math.ceil(((clusterCount + 2) * fatType) / 8);
    const needed = Math.ceil(fatBytes / FAT_SECTOR);
    if (needed <= fatSectors) break;
    fatSectors = needed;
  }
  const limits = CLUSTER_LIMITS[fatType];
  if (clusterCount < limits.min || clusterCount > limits.max) return undefined;
  return {
    fatType,
    totalSectors,
    sectorsPerCluster,
    reservedSectors,
    numFats,
    rootEntries: root,
    rootDirSectors,
    fatSectors,
    firstDataSector: reservedSectors + numFats * fatSectors + rootDirSectors,
    clusterCount,
    clusterBytes: sectorsPerCluster * FAT_SECTOR,
  };
}

/** The type chosen for a size when none is asked for (as mkfs.fat does: small FAT12, FAT16 to 512 MiB). */
export function defaultFatType(sizeBytes: number): FatType {
  if (sizeBytes < 16 * 1024 * 1024) return 12;
  if (sizeBytes < 512 * 1024 * 1024) return 16;
  return 32;
}

/** The cluster size the Microsoft specification's tables recommend, in sectors. */
function preferredSectorsPerCluster(fatType: FatType, totalSectors: number): number {
  if (fatType === 12) return 1;
  if (fatType === 16) {
    for (const [limit, spc] of [
      [32680, 2],
      [262144, 4],
      [524288, 8],
      [1048576, 16],
      [2097152, 32],
    ] as const) {
      if (totalSectors <= limit) return spc;
    }
    return 64;
  }
  for (const [limit, spc] of [
    [532480, 1],
    [16777216, 8],
    [33554432, 16],
    [67108864, 32],
  ] as const) {
    if (totalSectors <= limit) return spc;
  }
  return 64;
}

/**
 * Picks the geometry of a `sizeBytes` volume of `fatType` (chosen from the size when absent): the
 * recommended cluster size if its cluster count suits the type, else the nearest that does.
 */
export function chooseGeometry(
  sizeBytes: number,
  fatType: FatType | undefined,
  rootEntries: number,
): FatGeometry {
  const type = fatType ?? defaultFatType(sizeBytes);
  const totalSectors = sizeBytes / FAT_SECTOR;
  const preferred = preferredSectorsPerCluster(type, totalSectors);
  const candidates = [preferred, 1, 2, 4, 8, 16, 32, 64, 128].filter((v, i, all) => all.indexOf(v) === i);
  for (const spc of candidates) {
    const geometry = computeGeometry(totalSectors, type, spc, rootEntries);
    if (geometry) return geometry;
  }
  const { min, max } = CLUSTER_LIMITS[type];
  throw invalidArgument(
    fatType === undefined ? 'options.sizeBytes' : 'options.fatType',
    `FAT${type} needs between ${min} and ${max} clusters; ${sizeBytes} bytes cannot be laid out that way` +
      (type === 32
        ? ' (FAT32 needs at least about 33 MiB)'
        : type === 16
          ? ' (FAT16 needs about 2.1 MiB to 4 GiB)'
          : ''),
  );
}
