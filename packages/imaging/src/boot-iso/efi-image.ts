import { VmkitError } from '@vmkit/core/spi';
import { writeFat } from '../fat/fat-writer.js';
import { readFat } from '../fat/read/fat-reader.js';
import type { MediaEntry } from '../media-entry.js';
import { read32le } from '../util/bytes.js';
import { bootConfigKind, patchBootConfigBytes } from './boot-configs.js';
import type { KernelParam } from './kernel-params.js';

/** What patching an EFI boot image gave. */
export interface PatchedEfiImage {
  /** The new FAT image, or `undefined` when no configuration inside changed. */
  readonly bytes?: Uint8Array;
  /** Paths of the configurations patched inside the image. */
  readonly patched: string[];
  /** Paths of the boot configurations found inside the image. */
  readonly found: string[];
  /** Kernel lines seen. */
  readonly kernelLines: number;
}

const MAX_CONFIG = 1024 * 1024;

/**
 * Reads an EFI boot image (a FAT file system), patches every `grub.cfg` inside it and, when one
 * changed, writes the volume again with the same size, FAT type, label and serial number.
 */
export async function patchEfiImage(
  image: Uint8Array,
  add: readonly KernelParam[],
  remove: ReadonlySet<string>,
): Promise<PatchedEfiImage> {
  const fat = await readFat(image);
  const entries: MediaEntry[] = [];
  const patched: string[] = [];
  const found: string[] = [];
  let kernelLines = 0;
  for (const file of fat.files) {
    if (file.type === 'directory') {
      entries.push({ path: file.path, type: 'directory' });
      continue;
    }
    let content = await fat.readFile(file.path);
    if (bootConfigKind(file.path) === 'grub' && file.size <= MAX_CONFIG) {
      found.push(file.path);
      const result = patchBootConfigBytes(content, 'grub', add, remove);
      kernelLines += result.kernelLines;
      if (result.bytes) {
        content = result.bytes;
        patched.push(file.path);
      }
    }
    entries.push({ path: file.path, content });
  }
  if (patched.length === 0) return { patched, found, kernelLines };
  const ext = fat.fatType === 32 ? 64 : 36;
  const label = pickLabel(fat.label ?? fat.bootLabel);
  try {
    const bytes = await writeFat(entries, {
      label,
      sizeBytes: image.length - (image.length % 512),
      fatType: fat.fatType,
      volumeSerial: read32le(image, ext + 3),
    });
    return { bytes, patched, found, kernelLines };
  } catch (error) {
    throw new VmkitError('UNSUPPORTED', `cannot rewrite the EFI boot image: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function pickLabel(label: string): string {
  const clean = label.trim();
  if (/^[\x20-\x7e]{1,11}$/.test(clean) && !/["*+,./:;<=>?[\\\]|]/.test(clean) && clean !== 'NO NAME')
    return clean;
  return 'EFIBOOT';
}
