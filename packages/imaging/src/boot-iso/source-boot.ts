import { type FileHandle, open } from 'node:fs/promises';
import { VmkitError } from '@vmkit/core';
import type { IsoBootImage, IsoHybridOptions } from '../iso9660/boot/iso-boot-options.js';
import type { Iso9660FileInfo, Iso9660Reader } from '../iso9660/read/iso-reader.js';
import { read32le } from '../util/bytes.js';

const SECTOR = 2048;
/** Largest BIOS boot image read to detect its patches. */
const MAX_BIOS_IMAGE = 64 * 1024 * 1024;

/** How the source boots: what the writer needs to boot the same ways. */
export interface SourceBoot {
  /** Boot images, in catalogue order. */
  readonly images: IsoBootImage[];
  /** Path of the catalogue file in the tree (left out of the copied entries). */
  readonly catalogPath: string;
  /** The hybrid system area, when the source had one the writer knows how to make. */
  readonly hybrid?: IsoHybridOptions;
  /** Raw creation and modification dates of the primary volume descriptor. */
  readonly volumeDates: { readonly created: Uint8Array; readonly modified: Uint8Array };
}

async function readAt(handle: FileHandle, offset: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  const { bytesRead } = await handle.read(buf, 0, length, offset);
  if (bytesRead !== length) throw new VmkitError('CORRUPT', `the image ends before byte ${offset + length}`);
  return buf;
}

function fileAt(files: readonly Iso9660FileInfo[], lba: number): Iso9660FileInfo | undefined {
  return files.find((f) => f.type === 'file' && f.extents[0]?.lba === lba && f.size > 0);
}

/**
 * Reads how `reader`'s image boots: El Torito entries (no emulation, BIOS or EFI) mapped to files of
 * the tree, the patches the BIOS images carry (boot information table, GRUB's boot address), and
 * the hybrid MBR (isohybrid or GRUB style, with or without GPT). `UNSUPPORTED` for what cannot be
 * carried over (emulation modes, other platforms, hidden boot images).
 */
export async function readSourceBoot(path: string, reader: Iso9660Reader): Promise<SourceBoot> {
  const catalog = reader.bootCatalog;
  if (!catalog)
    throw new VmkitError('UNSUPPORTED', 'the ISO has no El Torito boot catalogue: it is not bootable');
  const handle = await open(path, 'r');
  try {
    const images: IsoBootImage[] = [];
    let biosLba: number | undefined;
    for (const [i, entry] of catalog.entries.entries()) {
      if (!entry.bootable) continue;
      const platform = entry.platform === 'x86' ? 'bios' : entry.platform === 'efi' ? 'efi' : undefined;
      if (!platform)
        throw new VmkitError(
          'UNSUPPORTED',
          `boot entry ${i} is for platform ${entry.platform}; only x86 BIOS and EFI are supported`,
        );
      if (entry.mediaType !== 'no-emulation')
        throw new VmkitError(
          'UNSUPPORTED',
          `boot entry ${i} uses ${entry.mediaType} emulation; only no-emulation entries are supported`,
        );
      const file = fileAt(reader.files, entry.loadRba);
      if (!file)
        throw new VmkitError(
          'UNSUPPORTED',
          `boot entry ${i} loads sector ${entry.loadRba}, which is no file of the ISO tree (hidden boot images are not supported)`,
        );
      const image: { -readonly [K in keyof IsoBootImage]: IsoBootImage[K] } = {
        platform,
        image: file.path,
        loadSize: entry.sectorCount,
      };
      if (platform === 'bios' && file.size <= MAX_BIOS_IMAGE) {
        const bytes = await readAt(handle, entry.loadRba * SECTOR, file.size);
        if (
          bytes.length >= 24 &&
          read32le(bytes, 8) === 16 &&
          read32le(bytes, 12) === entry.loadRba &&
          read32le(bytes, 16) === file.size
        )
          image.bootInfoTable = true;
        if (bytes.length >= 2556) {
          const v = new DataView(bytes.buffer).getBigUint64(2548, true);
          if (v === BigInt(entry.loadRba) * 4n + 5n) image.grub2BootInfo = true;
        }
        biosLba ??= entry.loadRba;
      }
      images.push(image);
    }
    if (images.length === 0)
      throw new VmkitError('UNSUPPORTED', 'the El Torito catalogue has no bootable entry');
    const catalogFile = reader.files.find((f) => f.type === 'file' && f.extents[0]?.lba === catalog.lba);
    const head = await readAt(handle, 0, 16 * SECTOR + SECTOR);
    const pvd = head.subarray(16 * SECTOR);
    const hybrid = biosLba === undefined ? undefined : hybridOf(head, biosLba);
    return {
      images,
      catalogPath: catalogFile?.path ?? 'boot.catalog',
      ...(hybrid ? { hybrid } : {}),
      volumeDates: { created: pvd.slice(813, 830), modified: pvd.slice(830, 847) },
    };
  } finally {
    await handle.close();
  }
}

/** The hybrid MBR style of a system area whose boot code loads the BIOS image at `biosLba`. */
function hybridOf(area: Uint8Array, biosLba: number): IsoHybridOptions | undefined {
  if (area[510] !== 0x55 || area[511] !== 0xaa) return undefined;
  const address = new DataView(area.buffer).getBigUint64(432, true);
  const base = BigInt(biosLba) * 4n;
  const style = address === base ? 'isohybrid' : address === base + 4n ? 'grub2' : undefined;
  if (!style) return undefined;
  const gpt = new TextDecoder().decode(area.subarray(512, 520)) === 'EFI PART';
  return { mbrCode: area.slice(0, 432), style, gpt };
}
