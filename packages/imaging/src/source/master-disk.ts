import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { throwIfAborted, VmkitError } from '@vmkit/core/spi';
import { type DiskConverter, qemuFormatOf } from '../convert/disk-converter.js';
import { qemuImgConverter } from '../convert/qemu-img-converter.js';
import { assertSafeImage, formatSatisfies, normalizeFormat } from '../inspect/assert-safe-image.js';
import type { ImageFormat } from '../inspect/image-info.js';
import { inspectImage } from '../inspect/inspect-image.js';
import { type FetchSourceOptions, fetchSourceFile, type SourceLocation } from './fetch-source.js';

/** Formats a `disk` master source may have (as found by the inspector; `raw` also covers ISO and GPT disks). */
export const MASTER_DISK_FORMATS = ['qcow2', 'raw', 'vmdk', 'vhd', 'vhdx', 'vdi'] as const;

/** A `disk` master source: where it is, and the format its owner claims. */
export interface MasterDiskSource extends SourceLocation {
  /** The claimed format; refused when the headers say otherwise. */
  readonly format?: string;
}

/** Options of {@link fetchMasterDisk}: what the hypervisor opens, and where converted bytes go. */
export interface FetchMasterDiskOptions extends FetchSourceOptions {
  /** Formats the hypervisor opens as they are (`raw` also covers ISO and GPT disks). */
  readonly native: readonly ImageFormat[];
  /** qemu's name of the format any other allowed disk is converted to (e.g. `qcow2`, `vdi`). */
  readonly convertTo: string;
  /** The converted disk's file (a name of vmkit's own). Default: a new private temporary folder. */
  readonly convertedTo?: string;
  /** The converter (default {@link qemuImgConverter} with `qemu-img` from the PATH). */
  readonly converter?: DiskConverter;
  /** Conversion progress, 0 to 1 (called only when a conversion runs). */
  readonly onProgress?: (fraction: number) => void;
}

/** A master's disk, ready for the hypervisor. */
export interface MasterDisk {
  /** The absolute path of the disk to hand to the hypervisor. */
  readonly path: string;
  /** Its format (a native one, or `convertTo`); `raw` for ISO and GPT disks. */
  readonly format: string;
  /** The size of the disk a guest sees, in bytes. */
  readonly virtualSize: number;
  /** Whether the file was converted from the source. */
  readonly converted: boolean;
  /** Whether vmkit made the file (a download or a conversion), and so removes it. */
  readonly owned: boolean;
  /** Removes what vmkit made for it (the file when owned, and its private folder); never a user's file. */
  dispose(): Promise<void>;
}

/**
 * Makes a `disk` master source a disk the hypervisor opens, the same way on every hypervisor:
 * fetched and checked by {@link fetchSourceFile}; its headers inspected and refused by
 * {@link assertSafeImage}'s rules (backing or data files, VMDK extents naming paths, QED, several
 * formats, a claimed `format` that is not the one found, a format outside
 * {@link MASTER_DISK_FORMATS}) before any tool reads it; a `native` format used as it is, any
 * other converted to `convertTo` with the input format given explicitly, and the result inspected
 * again. A downloaded source is removed once converted; on any failure or abort nothing vmkit made
 * is left. A missing `qemu-img` is `UNSUPPORTED` naming `<field>.format`.
 */
export async function fetchMasterDisk(
  source: MasterDiskSource,
  options: FetchMasterDiskOptions,
): Promise<MasterDisk> {
  const field = options.field ?? 'source';
  const signal = options.signal;
  const file = await fetchSourceFile(source, options);
  let found: ImageFormat;
  try {
    const info = await inspectImage(file.path, signal ? { signal } : {});
    assertSafeImage(info, {
      field,
      formats: MASTER_DISK_FORMATS,
      ...(source.format ? { format: source.format } : {}),
    });
    const native = options.native.find((f) => formatSatisfies(f, info.format));
    if (native) {
      const raw = native === 'raw';
      return {
        path: file.path,
        format: native,
        virtualSize: raw ? info.fileSize : info.virtualSize,
        converted: false,
        owned: file.owned,
        dispose: () => file.dispose(),
      };
    }
    found = info.format;
  } catch (error) {
    await file.dispose();
    throw error;
  }
  try {
    return await convert(file.path, found, field, options);
  } finally {
    await file.dispose();
  }
}

async function convert(
  input: string,
  found: ImageFormat,
  field: string,
  options: FetchMasterDiskOptions,
): Promise<MasterDisk> {
  const signal = options.signal;
  throwIfAborted(signal, 'disk conversion');
  const dir = options.convertedTo ? undefined : await mkdtemp(join(tmpdir(), 'vmkit-conv-'));
  const output = options.convertedTo
    ? resolve(options.convertedTo)
    : join(dir as string, `disk.${options.convertTo}`);
  const dispose = () => rm(dir ?? output, { recursive: true, force: true });
  try {
    if (!dir) await rm(output, { force: true });
    await (options.converter ?? qemuImgConverter()).convert({
      input,
      inputFormat: qemuFormatOf(found),
      output,
      outputFormat: options.convertTo,
      field,
      ...(signal ? { signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const info = await inspectImage(output, signal ? { signal } : {});
    assertSafeImage(info, { field: `${field} converted`, format: normalizeFormat(options.convertTo) });
    return {
      path: output,
      format: options.convertTo,
      virtualSize: info.virtualSize,
      converted: true,
      owned: true,
      dispose,
    };
  } catch (error) {
    await dispose();
    if (VmkitError.is(error, 'UNSUPPORTED') && error.details.missing === true) {
      const natives = options.native.join(', ');
      throw new VmkitError(
        'UNSUPPORTED',
        `${field}.format: ${found} disks must be converted to ${options.convertTo.toUpperCase()} with qemu-img, which was not found (${String(error.details.program)}); install qemu-utils or give a ${natives} disk`,
        { cause: error, details: { field: `${field}.format` } },
      );
    }
    throw error;
  }
}
