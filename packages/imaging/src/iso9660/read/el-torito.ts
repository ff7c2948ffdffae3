import { VmkitError } from '@vmkit/core/spi';
import { read16le, read32le } from '../../util/bytes.js';
import { trimPadding } from '../../util/unicode.js';
import type { ByteSource } from './byte-source.js';

const SECTOR = 2048;
/** Sectors of catalogue read at most (64 entries each). */
const MAX_CATALOG_SECTORS = 4;

/** El Torito platform of a boot entry. */
export type BootPlatform = 'x86' | 'powerpc' | 'mac' | 'efi' | `0x${string}`;

/** El Torito emulation of a boot entry. */
export type BootMediaType =
  | 'no-emulation'
  | 'floppy-1.2m'
  | 'floppy-1.44m'
  | 'floppy-2.88m'
  | 'hard-disk'
  | `0x${string}`;

/** One boot entry of an El Torito catalogue (the initial entry or a section entry). */
export interface BootEntry {
  /** Platform of the section (the validation entry's for the initial entry). */
  readonly platform: BootPlatform;
  /** Whether the entry is marked bootable (0x88). */
  readonly bootable: boolean;
  /** Emulation type. */
  readonly mediaType: BootMediaType;
  /** Load segment (0 means the BIOS default, 0x7C0). */
  readonly loadSegment: number;
  /** System type (partition type byte for hard-disk emulation). */
  readonly systemType: number;
  /** Count of 512-byte virtual sectors loaded. */
  readonly sectorCount: number;
  /** First 2048-byte sector of the boot image. */
  readonly loadRba: number;
}

/** An El Torito boot catalogue. */
export interface BootCatalog {
  /** Sector of the catalogue. */
  readonly lba: number;
  /** Manufacturer / developer id string of the validation entry. */
  readonly idString: string;
  /** The boot entries: the initial/default entry first, then section entries. */
  readonly entries: readonly BootEntry[];
}

const PLATFORMS: Record<number, BootPlatform> = { 0: 'x86', 1: 'powerpc', 2: 'mac', 239: 'efi' };
const MEDIA: Record<number, BootMediaType> = {
  0: 'no-emulation',
  1: 'floppy-1.2m',
  2: 'floppy-1.44m',
  3: 'floppy-2.88m',
  4: 'hard-disk',
};

const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}` as const;

function corrupt(message: string): VmkitError {
  return new VmkitError('CORRUPT', `malformed El Torito boot catalogue: ${message}`);
}

function entry(e: Uint8Array, platform: number): BootEntry {
  const media = (e[1] ?? 0) & 0x0f;
  return {
    platform: PLATFORMS[platform] ?? hex(platform),
    bootable: e[0] === 0x88,
    mediaType: MEDIA[media] ?? hex(media),
    loadSegment: read16le(e, 2),
    systemType: e[4] ?? 0,
    sectorCount: read16le(e, 6),
    loadRba: read32le(e, 8),
  };
}

/** Reads the El Torito boot catalogue at sector `lba` (validation entry checksum checked). */
export async function readBootCatalog(source: ByteSource, lba: number): Promise<BootCatalog> {
  const sectors = Math.min(MAX_CATALOG_SECTORS, Math.floor(source.size / SECTOR) - lba);
  if (sectors < 1) throw corrupt(`catalogue sector ${lba} lies beyond the image`);
  const cat = await source.read(lba * SECTOR, sectors * SECTOR);
  if (cat[0] !== 0x01 || cat[30] !== 0x55 || cat[31] !== 0xaa) throw corrupt('no validation entry');
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + read16le(cat, i)) & 0xffff;
  if (sum !== 0) throw corrupt('validation entry checksum does not add up to zero');
  const validationPlatform = cat[1] ?? 0;
  const idString = trimPadding(String.fromCharCode(...cat.subarray(4, 28)));
  const entries: BootEntry[] = [entry(cat.subarray(32, 64), validationPlatform)];
  let pos = 64;
  while (pos + 32 <= cat.length) {
    const header = cat[pos];
    if (header !== 0x90 && header !== 0x91) break;
    const platform = cat[pos + 1] ?? 0;
    let count = read16le(cat, pos + 2);
    pos += 32;
    while (count > 0 && pos + 32 <= cat.length) {
      const e = cat.subarray(pos, pos + 32);
      pos += 32;
      if (e[0] === 0x44) continue; // extension entry, belongs to the previous entry
      entries.push(entry(e, platform));
      count--;
    }
    if (header === 0x91) break;
  }
  return { lba, idString, entries };
}
