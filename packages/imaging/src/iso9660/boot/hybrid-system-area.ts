import { createHash } from 'node:crypto';
import { u32le } from '../../util/bytes.js';
import { crc32 } from '../../util/crc32.js';
import type { IsoHybridOptions } from './iso-boot-options.js';

/** Where the hybrid layout's parts lie, in 512-byte blocks. */
export interface HybridPlacement {
  /** Blocks of the whole image. */
  readonly totalBlocks: number;
  /** 2048-byte sector of the first BIOS boot image. */
  readonly biosImageLba: number;
  /** The first EFI boot image: its 2048-byte sector and size in bytes. */
  readonly efiImage?: { readonly lba: number; readonly size: number };
  /** Seeds the disk signature and GUIDs (the volume identifier), so output is deterministic. */
  readonly seed: string;
}

/** Bytes of GPT at the end of the image: 32 blocks of entries and the backup header. */
export const GPT_BACKUP_BYTES = 33 * 512;

const GPT_ENTRIES = 128;
const ESP_TYPE = guidBytes('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');

/** Encodes a GUID string in GPT's mixed-endian byte order. */
export function guidBytes(text: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  const b = Uint8Array.from({ length: 16 }, (_, i) => Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  return Uint8Array.of(
    b[3] ?? 0,
    b[2] ?? 0,
    b[1] ?? 0,
    b[0] ?? 0,
    b[5] ?? 0,
    b[4] ?? 0,
    b[7] ?? 0,
    b[6] ?? 0,
    ...b.subarray(8),
  );
}

function derivedGuid(seed: string, what: string): Uint8Array {
  const g = createHash('sha256').update(`vmkit-hybrid\0${seed}\0${what}`).digest().subarray(0, 16);
  g[7] = ((g[7] ?? 0) & 0x0f) | 0x40; // version 4 (GPT's mixed-endian field 3)
  g[8] = ((g[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  return new Uint8Array(g);
}

function chs(lba: number): [number, number, number] {
  const heads = 64;
  const sectors = 32;
  const c = Math.floor(lba / (heads * sectors));
  if (c > 1023) return [0xfe, 0xff, 0xff];
  const h = Math.floor(lba / sectors) % heads;
  const s = (lba % sectors) + 1;
  return [h, s | ((c >> 2) & 0xc0), c & 0xff];
}

function partition(
  mbr: Uint8Array,
  index: number,
  status: number,
  type: number,
  start: number,
  count: number,
): void {
  const off = 446 + 16 * index;
  mbr[off] = status;
  mbr.set(chs(start), off + 1);
  mbr[off + 4] = type;
  mbr.set(chs(start + count - 1), off + 5);
  u32le(mbr, off + 8, start);
  u32le(mbr, off + 12, Math.min(count, 0xffffffff));
}

/**
 * Encodes the hybrid system area into `area` (the image's first 32 KiB): MBR boot code with the BIOS
 * image's address at byte 432, the partition table, and when `gpt` the primary GPT (header at block
 * 1, 128 entries from block 2). Returns the backup GPT (entries, then header) for the image's last
 * 33 blocks, or `undefined` without a GPT.
 */
export function encodeHybridArea(
  area: Uint8Array,
  options: IsoHybridOptions,
  place: HybridPlacement,
): Uint8Array | undefined {
  const mbr = area.subarray(0, 512);
  mbr.set(options.mbrCode.subarray(0, 432));
  const view = new DataView(area.buffer, area.byteOffset, area.byteLength);
  const bias = options.style === 'grub2' ? 4n : 0n;
  view.setBigUint64(432, BigInt(place.biosImageLba) * 4n + bias, true);
  const seedGuid = derivedGuid(place.seed, 'disk');
  if (options.diskSignature === undefined) mbr.set(seedGuid.subarray(0, 4), 440);
  else u32le(mbr, 440, options.diskSignature);
  mbr[444] = 0;
  mbr[445] = 0;
  const gpt = (options.gpt ?? place.efiImage !== undefined) && place.totalBlocks > 68;
  const efi = place.efiImage;
  const efiStart = efi ? efi.lba * 4 : 0;
  const efiBlocks = efi ? Math.ceil(efi.size / 512) : 0;
  if (options.style === 'isohybrid') {
    partition(mbr, 0, 0x80, efi ? 0x00 : 0x17, 0, place.totalBlocks);
    if (efi) partition(mbr, 1, 0x00, 0xef, efiStart, efiBlocks);
  } else if (gpt) {
    partition(mbr, 0, 0x00, 0xee, 1, place.totalBlocks - 1);
  } else {
    partition(mbr, 0, 0x80, 0x00, 1, place.totalBlocks - 1);
  }
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  if (!gpt) return undefined;
  const entries = new Uint8Array(GPT_ENTRIES * 128);
  if (efi) {
    entries.set(ESP_TYPE, 0);
    entries.set(derivedGuid(place.seed, 'esp'), 16);
    const e = new DataView(entries.buffer);
    e.setBigUint64(32, BigInt(efiStart), true);
    e.setBigUint64(40, BigInt(efiStart + efiBlocks - 1), true);
    const name = 'EFI boot partition';
    for (let i = 0; i < name.length; i++) e.setUint16(56 + 2 * i, name.charCodeAt(i), true);
  }
  const last = place.totalBlocks - 1;
  const header = (my: number, alternate: number, entriesLba: number) => {
    const h = new Uint8Array(512);
    const d = new DataView(h.buffer);
    h.set(new TextEncoder().encode('EFI PART'), 0);
    d.setUint32(8, 0x00010000, true);
    d.setUint32(12, 92, true);
    d.setBigUint64(24, BigInt(my), true);
    d.setBigUint64(32, BigInt(alternate), true);
    d.setBigUint64(40, 34n, true);
    d.setBigUint64(48, BigInt(last - 33), true);
    h.set(seedGuid, 56);
    d.setBigUint64(72, BigInt(entriesLba), true);
    d.setUint32(80, GPT_ENTRIES, true);
    d.setUint32(84, 128, true);
    d.setUint32(88, crc32(entries), true);
    d.setUint32(16, crc32(h.subarray(0, 92)), true);
    return h;
  };
  area.set(header(1, last, 2), 512);
  area.set(entries, 1024);
  const backup = new Uint8Array(GPT_BACKUP_BYTES);
  backup.set(entries, 0);
  backup.set(header(last, 1, last - 32), 32 * 512);
  return backup;
}
