import { invalidArgument } from '@vmkit/core/spi';
import { isMediaSource, type MediaSource } from '../../media-entry.js';

/** One El Torito boot entry: a file of the image that firmware loads (no emulation). */
export interface IsoBootImage {
  /** `bios` (El Torito platform 0, x86) or `efi` (platform 0xEF: the image is a FAT file system). */
  readonly platform: 'bios' | 'efi';
  /**
   * Path of the boot image among the entries, such as `isolinux/isolinux.bin` or
   * `boot/grub/efi.img`; with `content`, only a name for it.
   */
  readonly image: string;
  /**
   * The image's bytes when it is not among the entries: it is then recorded after the files with
   * no directory record (a hidden boot image, as for an EFI partition appended to the image).
   */
  readonly content?: Uint8Array | MediaSource;
  /**
   * 512-byte sectors the firmware loads, 1 to 65535 (default: 4 for `bios`, as isolinux and GRUB
   * expect; the whole image for `efi`, or 0 when it has more than 65535 sectors).
   */
  readonly loadSize?: number;
  /**
   * `bios` only: patch the image's boot information table (bytes 8 to 63: primary descriptor
   * sector, image sector, image length, checksum), which isolinux and GRUB's `eltorito.img` read.
   */
  readonly bootInfoTable?: boolean;
  /**
   * `bios` only: patch the 64-bit little-endian value at byte 2548 with the image's 512-byte
   * address plus 5, which GRUB's `eltorito.img` reads when booted from a disk (`--grub2-boot-info`).
   */
  readonly grub2BootInfo?: boolean;
}

/**
 * A hybrid system area: the first 32 KiB make the image bootable when written to a disk or USB
 * stick as well, with an MBR partition table and, when asked, a GPT with an EFI system partition on
 * the EFI boot image.
 */
export interface IsoHybridOptions {
  /** MBR boot code: at most 432 bytes, such as syslinux's `isohdpfx.bin` or GRUB's `boot_hybrid.img`. */
  readonly mbrCode: Uint8Array;
  /**
   * How the boot code finds the first BIOS boot image, written at byte 432: `isohybrid` (its
   * 512-byte address, isolinux; partition 1 spans the image from sector 0, partition 2 is the EFI
   * image) or `grub2` (its 512-byte address plus 4, GRUB; partition 1 is a protective 0xEE when a
   * GPT is written).
   */
  readonly style: 'isohybrid' | 'grub2';
  /** Write a GPT with an EFI system partition on the first EFI boot image (default: when there is one). */
  readonly gpt?: boolean;
  /** MBR disk signature (default derived from the volume identifier). */
  readonly diskSignature?: number;
}

/** El Torito boot options of {@link WriteIso9660Options}. */
export interface IsoBootOptions {
  /** Boot entries; the first is the default (initial) entry, the others follow in sections. */
  readonly images: readonly IsoBootImage[];
  /** Path of the boot catalogue file the writer adds (default `boot.catalog`). */
  readonly catalogPath?: string;
  /** Hybrid MBR (and GPT) system area. */
  readonly hybrid?: IsoHybridOptions;
}

/** Validates boot options eagerly, naming the bad field. */
export function checkBootOptions(boot: IsoBootOptions): IsoBootOptions {
  const at = 'options.boot';
  if (typeof boot !== 'object' || boot === null) throw invalidArgument(at, 'must be an object');
  if (!Array.isArray(boot.images) || boot.images.length === 0 || boot.images.length > 32)
    throw invalidArgument(`${at}.images`, 'must hold 1 to 32 boot images');
  boot.images.forEach((image, i) => {
    const field = `${at}.images[${i}]`;
    if (image.platform !== 'bios' && image.platform !== 'efi')
      throw invalidArgument(`${field}.platform`, "must be 'bios' or 'efi'");
    if (typeof image.image !== 'string' || image.image === '')
      throw invalidArgument(`${field}.image`, 'must be the path of a file entry');
    if (image.loadSize !== undefined && !(Number.isInteger(image.loadSize) && image.loadSize >= 0))
      throw invalidArgument(`${field}.loadSize`, 'must be an integer from 0 to 65535');
    if (image.loadSize !== undefined && image.loadSize > 0xffff)
      throw invalidArgument(`${field}.loadSize`, 'must be an integer from 0 to 65535');
    if (image.content !== undefined && !(image.content instanceof Uint8Array || isMediaSource(image.content)))
      throw invalidArgument(`${field}.content`, 'must be a Uint8Array or a MediaSource');
    if (
      image.content !== undefined &&
      (contentSize(image.content) === 0 || contentSize(image.content) > 0xffffffff)
    )
      throw invalidArgument(`${field}.content`, 'must hold 1 byte to 4 GiB - 1');
    if (image.platform === 'efi' && (image.bootInfoTable || image.grub2BootInfo))
      throw invalidArgument(field, 'boot information patches apply to bios images only');
  });
  if (boot.catalogPath !== undefined && (typeof boot.catalogPath !== 'string' || boot.catalogPath === ''))
    throw invalidArgument(`${at}.catalogPath`, 'must be a non-empty path');
  const hybrid = boot.hybrid;
  if (hybrid !== undefined) {
    if (!(hybrid.mbrCode instanceof Uint8Array) || hybrid.mbrCode.length > 432)
      throw invalidArgument(`${at}.hybrid.mbrCode`, 'must be a Uint8Array of at most 432 bytes');
    if (hybrid.style !== 'isohybrid' && hybrid.style !== 'grub2')
      throw invalidArgument(`${at}.hybrid.style`, "must be 'isohybrid' or 'grub2'");
    if (!boot.images.some((image) => image.platform === 'bios'))
      throw invalidArgument(`${at}.hybrid`, 'needs a bios boot image for the MBR boot code to load');
    const sig = hybrid.diskSignature;
    if (sig !== undefined && !(Number.isInteger(sig) && sig >= 0 && sig <= 0xffffffff))
      throw invalidArgument(`${at}.hybrid.diskSignature`, 'must be a 32-bit unsigned integer');
  }
  return boot;
}

/** Size in bytes of a hidden boot image's content. */
export function contentSize(content: Uint8Array | MediaSource): number {
  return content instanceof Uint8Array ? content.length : content.size;
}
