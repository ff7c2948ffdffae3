import { type FileHandle, open } from 'node:fs/promises';
import { VmkitError } from '@vmkit/core/spi';
import type { IsoBootImage, IsoHybridOptions } from '../iso9660/boot/iso-boot-options.js';
import type { BootEntry } from '../iso9660/read/el-torito.js';
import type { Iso9660FileInfo, Iso9660Reader } from '../iso9660/read/iso-reader.js';
import { read32le } from '../util/bytes.js';
import { fromFileRange } from '../util/file-range.js';

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

/** A boot image: a file of the tree, or a hidden one (an appended partition). */
interface BootImageFile {
  readonly path: string;
  readonly size: number;
  readonly hidden?: boolean;
}

function fileAt(files: readonly Iso9660FileInfo[], lba: number): BootImageFile | undefined {
  return files.find((f) => f.type === 'file' && f.extents[0]?.lba === lba && f.size > 0);
}

/**
 * A boot image outside the directory tree: its size is that of the MBR or GPT partition starting
 * at its sector (an appended EFI partition), else the sectors the catalogue loads.
 */
function hiddenImage(area: Uint8Array, entry: BootEntry, index: number, sourceSize: number): BootImageFile {
  const start = entry.loadRba * 4;
  const size = (partitionBlocks(area, start) ?? (entry.sectorCount > 1 ? entry.sectorCount : 0)) * 512;
  if (size === 0 || entry.loadRba * SECTOR + size > sourceSize || size > 0xffffffff)
    throw new VmkitError(
      'UNSUPPORTED',
      `boot entry ${index} loads sector ${entry.loadRba}, which is neither a file of the ISO tree nor a partition of the image`,
    );
  return { path: `hidden@${entry.loadRba}`, size, hidden: true };
}

/** Blocks of the MBR or GPT partition that starts at 512-byte block `start`, if one does. */
function partitionBlocks(area: Uint8Array, start: number): number | undefined {
  const view = new DataView(area.buffer, area.byteOffset, area.byteLength);
  if (area[510] === 0x55 && area[511] === 0xaa) {
    for (let i = 0; i < 4; i++) {
      const off = 446 + 16 * i;
      if (area[off + 4] !== 0 && area[off + 4] !== 0xee && view.getUint32(off + 8, true) === start)
        return view.getUint32(off + 12, true);
    }
  }
  if (new TextDecoder().decode(area.subarray(512, 520)) !== 'EFI PART') return undefined;
  const entriesAt = Number(view.getBigUint64(512 + 72, true)) * 512;
  const count = view.getUint32(512 + 80, true);
  const size = view.getUint32(512 + 84, true);
  for (let i = 0; i < count && size >= 128 && entriesAt + (i + 1) * size <= area.length; i++) {
    const off = entriesAt + i * size;
    const first = Number(view.getBigUint64(off + 32, true));
    const last = Number(view.getBigUint64(off + 40, true));
    if (first === start && last >= first) return last - first + 1;
  }
  return undefined;
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
    const sourceSize = (await handle.stat()).size;
    const head = await readAt(handle, 0, 16 * SECTOR + SECTOR);
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
      const file = fileAt(reader.files, entry.loadRba) ?? hiddenImage(head, entry, i, sourceSize);

      const image: { -readonly [K in keyof IsoBootImage]: IsoBootImage[K] } = {
        platform,
        image: file.path,
        loadSize: entry.sectorCount,
        ...(file.hidden ? { content: fromFileRange(path, entry.loadRba * SECTOR, file.size) } : {}),
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
