import { putAscii, u16le, u32le } from '../util/bytes.js';
import { FAT_SECTOR, type FatGeometry } from './fat-geometry.js';

/** Identity fields of the boot sector. */
export interface BootIdentity {
  /** Volume label, up to 11 characters. */
  readonly label: string;
  /** Volume serial number. */
  readonly serial: number;
}

/** Media descriptor of a fixed disk. */
export const MEDIA_FIXED = 0xf8;

/**
 * Encodes the boot sector (BPB, extended BPB with label and serial) into a 512-byte buffer. The
 * boot code only asks the BIOS to try the next device (`int 18h`): these volumes are not bootable.
 */
export function encodeBootSector(g: FatGeometry, id: BootIdentity): Uint8Array {
  const b = new Uint8Array(FAT_SECTOR);
  const fat32 = g.fatType === 32;
  b.set(fat32 ? [0xeb, 0x58, 0x90] : [0xeb, 0x3c, 0x90], 0);
  putAscii(b, 3, 8, 'MSWIN4.1');
  u16le(b, 11, FAT_SECTOR);
  b[13] = g.sectorsPerCluster;
  u16le(b, 14, g.reservedSectors);
  b[16] = g.numFats;
  u16le(b, 17, g.rootEntries);
  const small = !fat32 && g.totalSectors < 0x10000;
  u16le(b, 19, small ? g.totalSectors : 0);
  b[21] = MEDIA_FIXED;
  u16le(b, 22, fat32 ? 0 : g.fatSectors);
  u16le(b, 24, 32);
  u16le(b, 26, 64);
  u32le(b, 28, 0);
  u32le(b, 32, small ? 0 : g.totalSectors);
  let ext = 36;
  if (fat32) {
    u32le(b, 36, g.fatSectors);
    u16le(b, 40, 0);
    u16le(b, 42, 0);
    u32le(b, 44, 2);
    u16le(b, 48, 1);
    u16le(b, 50, 6);
    ext = 64;
  }
  b[ext] = 0x80;
  b[ext + 1] = 0;
  b[ext + 2] = 0x29;
  u32le(b, ext + 3, id.serial);
  putAscii(b, ext + 7, 11, id.label);
  putAscii(b, ext + 18, 8, `FAT${g.fatType}`);
  b.set([0xcd, 0x18, 0xf4, 0xeb, 0xfd], ext + 26);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/** Encodes the FAT32 FSInfo sector with the free cluster count and the next free cluster hint. */
export function encodeFsInfo(freeCount: number, nextFree: number): Uint8Array {
  const b = new Uint8Array(FAT_SECTOR);
  u32le(b, 0, 0x41615252);
  u32le(b, 484, 0x61417272);
  u32le(b, 488, freeCount);
  u32le(b, 492, nextFree);
  u32le(b, 508, 0xaa550000);
  return b;
}
