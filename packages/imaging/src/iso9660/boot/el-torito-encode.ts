import { VmkitError } from '@vmkit/core/spi';
import { putAscii, read32le, u16le, u32le } from '../../util/bytes.js';

/** A boot entry as placed: platform, sectors loaded, first 2048-byte sector of its image. */
export interface PlacedBootImage {
  /** `bios` or `efi`. */
  readonly platform: 'bios' | 'efi';
  /** 512-byte sectors loaded. */
  readonly loadSize: number;
  /** Sector of the image. */
  readonly lba: number;
}

const PLATFORM_ID = { bios: 0x00, efi: 0xef } as const;

/** Encodes the El Torito boot record volume descriptor (El Torito 2.0) pointing at the catalogue. */
export function encodeBootRecord(sector: Uint8Array, catalogLba: number): void {
  sector[0] = 0;
  putAscii(sector, 1, 5, 'CD001');
  sector[6] = 1;
  putAscii(sector, 7, 32, 'EL TORITO SPECIFICATION', 0);
  u32le(sector, 71, catalogLba);
}

function bootEntry(out: Uint8Array, off: number, image: PlacedBootImage): void {
  out[off] = 0x88; // bootable
  out[off + 1] = 0; // no emulation
  u16le(out, off + 2, 0); // default load segment (0x7C0)
  out[off + 4] = 0;
  u16le(out, off + 6, image.loadSize);
  u32le(out, off + 8, image.lba);
}

/**
 * Encodes a boot catalogue (El Torito 2.0, section 2): the validation entry with its checksum, the
 * first image as the default entry, then one section per run of images of the same platform (the
 * last header 0x91).
 */
export function encodeBootCatalog(images: readonly PlacedBootImage[]): Uint8Array {
  const first = images[0];
  if (!first) throw new VmkitError('INVALID_ARGUMENT', 'a boot catalogue needs a boot image');
  const rest = images.slice(1);
  const sections: PlacedBootImage[][] = [];
  for (const image of rest) {
    const last = sections[sections.length - 1];
    if (last && last[0]?.platform === image.platform) last.push(image);
    else sections.push([image]);
  }
  const size = 64 + sections.reduce((n, s) => n + 32 + 32 * s.length, 0);
  if (size > 2048)
    throw new VmkitError('INVALID_ARGUMENT', 'options.boot.images: too many for one catalogue sector');
  const cat = new Uint8Array(2048);
  cat[0] = 0x01;
  cat[1] = PLATFORM_ID[first.platform];
  cat[30] = 0x55;
  cat[31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + ((cat[i] ?? 0) | ((cat[i + 1] ?? 0) << 8))) & 0xffff;
  u16le(cat, 28, (0x10000 - sum) & 0xffff);
  bootEntry(cat, 32, first);
  let off = 64;
  sections.forEach((section, i) => {
    cat[off] = i === sections.length - 1 ? 0x91 : 0x90;
    cat[off + 1] = PLATFORM_ID[section[0]?.platform ?? 'bios'];
    u16le(cat, off + 2, section.length);
    off += 32;
    for (const image of section) {
      bootEntry(cat, off, image);
      off += 32;
    }
  });
  return cat;
}

/** Byte of GRUB's `eltorito.img` that holds its own 512-byte address plus 5 (`--grub2-boot-info`). */
export const GRUB2_BOOT_INFO_OFFSET = 2548;

/**
 * Patches a BIOS boot image in place: GRUB's boot address at byte 2548 (first, since the checksum
 * covers it), then the boot information table (bytes 8-63: primary descriptor sector 16, image
 * sector, image length, 32-bit sum of the little-endian words from byte 64 on; bytes 24-63 zero).
 */
export function patchBootImage(
  bytes: Uint8Array,
  lba: number,
  patches: { readonly bootInfoTable?: boolean; readonly grub2BootInfo?: boolean },
): void {
  if (patches.grub2BootInfo) {
    if (bytes.length < GRUB2_BOOT_INFO_OFFSET + 8)
      throw new VmkitError(
        'INVALID_ARGUMENT',
        `a boot image of ${bytes.length} bytes is too small for GRUB boot info`,
      );
    const address = BigInt(lba) * 4n + 5n;
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setBigUint64(
      GRUB2_BOOT_INFO_OFFSET,
      address,
      true,
    );
  }
  if (patches.bootInfoTable) {
    if (bytes.length < 64)
      throw new VmkitError(
        'INVALID_ARGUMENT',
        `a boot image of ${bytes.length} bytes is too small for a boot info table`,
      );
    bytes.fill(0, 8, 64);
    u32le(bytes, 8, 16);
    u32le(bytes, 12, lba);
    u32le(bytes, 16, bytes.length);
    u32le(bytes, 20, bootInfoChecksum(bytes));
  }
}

/** The boot information table checksum: the sum of the 32-bit little-endian words from byte 64 on. */
export function bootInfoChecksum(bytes: Uint8Array): number {
  let sum = 0;
  const whole = bytes.length - ((bytes.length - 64) % 4);
  for (let i = 64; i < whole; i += 4) sum = (sum + read32le(bytes, i)) >>> 0;
  if (whole < bytes.length) {
    let tail = 0;
    for (let i = whole; i < bytes.length; i++) tail |= (bytes[i] ?? 0) << (8 * (i - whole));
    sum = (sum + (tail >>> 0)) >>> 0;
  }
  return sum;
}
