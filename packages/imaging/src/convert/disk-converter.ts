import type { ImageFormat } from '../inspect/image-info.js';

/** One conversion asked of a {@link DiskConverter}. */
export interface ConvertRequest {
  /** The disk to read (made absolute before any tool sees it). */
  readonly input: string;
  /** qemu's name of the input format (`qcow2`, `raw`, `vmdk`, `vpc`, `vhdx`, `vdi`), always given: never probed. */
  readonly inputFormat: string;
  /** The file to write; removed again when the conversion fails or is aborted. */
  readonly output: string;
  /** qemu's name of the output format. */
  readonly outputFormat: string;
  /** `-o` options of the output (e.g. `subformat=streamOptimized`). */
  readonly outputOptions?: string;
  /** Compressed clusters (`-c`, qcow2 and vmdk outputs). */
  readonly compress?: boolean;
  /** Stops the conversion: the converter ends, the partial output is removed, the call rejects `ABORTED`. */
  readonly signal?: AbortSignal;
  /** Fraction done, 0 to 1. */
  readonly onProgress?: (fraction: number) => void;
  /** Called with the converter's process id once it runs. */
  readonly onSpawn?: (pid: number) => void;
  /** The option or request field the disk came from, named in errors (e.g. `source`). */
  readonly field?: string;
}

/** Converts one disk image into another format ({@link qemuImgConverter} by default; fakes in tests). */
export interface DiskConverter {
  /** Writes `request.output`; on failure or abort no partial output is left. */
  convert(request: ConvertRequest): Promise<void>;
}

/**
 * qemu's format name for a format the inspector found: `vhd` is `vpc` to qemu, and ISO and GPT
 * disks are read as `raw`.
 */
export function qemuFormatOf(format: ImageFormat): string {
  if (format === 'vhd') return 'vpc';
  if (format === 'iso' || format === 'gpt') return 'raw';
  return format;
}
