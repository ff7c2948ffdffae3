import type { ProgressListener } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';
import { checkBootOptions, type IsoBootOptions } from './boot/iso-boot-options.js';
import type { IsoLevel } from './iso-names.js';
import { checkIsoDate } from './iso-time.js';

/** The timestamp media get when none is given: 2000-01-01T00:00:00Z, so output is deterministic. */
export const DEFAULT_MEDIA_TIME = new Date(Date.UTC(2000, 0, 1));

/** Default trailing padding of ISO images: 150 sectors (300 KiB). */
export const DEFAULT_ISO_PADDING = 150 * 2048;

/** Largest file a single-extent ISO 9660 record can describe: 4 GiB - 1. */
export const ISO_MAX_FILE_SIZE = 0xffffffff;

/** Options of {@link writeIso9660} and {@link writeIso9660ToFile}. */
export interface WriteIso9660Options {
  /** Volume identifier (the label, e.g. `cidata`): 1 to 32 printable ASCII characters, kept as given. */
  readonly volumeId: string;
  /** Add a Joliet tree (Unicode names up to 64 characters) for Windows and other readers (default true). */
  readonly joliet?: boolean;
  /** Add Rock Ridge entries (long POSIX names, modes, symlinks, times) to the primary tree (default true). */
  readonly rockRidge?: boolean;
  /** Publisher identifier, up to 128 printable ASCII characters. */
  readonly publisher?: string;
  /** Data preparer identifier, up to 128 printable ASCII characters. */
  readonly preparer?: string;
  /** Application identifier, up to 128 printable ASCII characters (default `VMKIT IMAGING`). */
  readonly applicationId?: string;
  /** System identifier, up to 32 printable ASCII characters (default empty). */
  readonly systemId?: string;
  /** Volume set identifier, up to 128 printable ASCII characters (default empty). */
  readonly volumeSetId?: string;
  /** Volume creation time and the default time of entries (default {@link DEFAULT_MEDIA_TIME}). */
  readonly timestamp?: Date | number;
  /** Primary names: level 1 (8.3, default, readable everywhere) or level 2 (up to 30 characters). */
  readonly isoLevel?: IsoLevel;
  /**
   * Zero bytes appended to the image and counted in its volume size, a multiple of 2048 (default
   * 300 KiB, as genisoimage and xorriso do): Linux CD-ROM drivers read ahead past the last file,
   * and without it guests fail to probe the label of small images.
   */
  readonly padding?: number;
  /** El Torito boot entries (BIOS and EFI, no emulation) and a hybrid MBR/GPT system area. */
  readonly boot?: IsoBootOptions;
  /**
   * Creation and modification dates recorded verbatim in the volume descriptors: 17 bytes each
   * in ECMA-119 8.4.26.1 form (`YYYYMMDDHHMMSScc` and a time zone byte). A remaster keeps the
   * source's, which GRUB uses as the file system UUID it searches for. Default: `timestamp`.
   */
  readonly volumeDates?: VolumeDates;
  /** Stops the write; a partial output file is removed. */
  readonly signal?: AbortSignal;
  /** Progress events (phase `transfer`) while file data is written. */
  readonly onProgress?: ProgressListener;
}

/** Raw volume descriptor dates (17 bytes each, ECMA-119 8.4.26.1). */
export interface VolumeDates {
  /** Volume creation date. */
  readonly created: Uint8Array;
  /** Volume modification date. */
  readonly modified: Uint8Array;
}

/** {@link WriteIso9660Options} validated, with defaults applied. */
export interface ResolvedIso9660Options {
  /** Volume identifier. */
  readonly volumeId: string;
  /** Whether a Joliet tree is written. */
  readonly joliet: boolean;
  /** Whether Rock Ridge entries are written. */
  readonly rockRidge: boolean;
  /** Publisher identifier. */
  readonly publisher: string;
  /** Data preparer identifier. */
  readonly preparer: string;
  /** Application identifier. */
  readonly applicationId: string;
  /** System identifier. */
  readonly systemId: string;
  /** Volume set identifier. */
  readonly volumeSetId: string;
  /** Volume time and default entry time. */
  readonly timestamp: Date;
  /** Primary name level. */
  readonly isoLevel: IsoLevel;
  /** Trailing zero bytes. */
  readonly padding: number;
  /** El Torito boot options. */
  readonly boot?: IsoBootOptions;
  /** Raw volume dates. */
  readonly volumeDates?: VolumeDates;
  /** Stops the write. */
  readonly signal?: AbortSignal;
  /** Progress events. */
  readonly onProgress?: ProgressListener;
}

/** Validates `options` eagerly, naming the bad option, and applies defaults. */
export function resolveIso9660Options(options: WriteIso9660Options): ResolvedIso9660Options {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'must be an object');
  const volumeId = printable(options.volumeId, 'options.volumeId', 32, false);
  const flag = (value: unknown, name: string) => {
    if (value === undefined) return true;
    if (typeof value !== 'boolean') throw invalidArgument(`options.${name}`, 'must be a boolean');
    return value;
  };
  const timestamp = options.timestamp === undefined ? DEFAULT_MEDIA_TIME : new Date(options.timestamp);
  if (Number.isNaN(timestamp.getTime()))
    throw invalidArgument('options.timestamp', 'must be a valid Date or epoch milliseconds');
  checkIsoDate(timestamp, 'options.timestamp');
  const isoLevel = options.isoLevel ?? 1;
  if (isoLevel !== 1 && isoLevel !== 2) throw invalidArgument('options.isoLevel', 'must be 1 or 2');
  const padding = options.padding ?? DEFAULT_ISO_PADDING;
  if (!Number.isSafeInteger(padding) || padding < 0 || padding % 2048 !== 0 || padding > 64 * 1024 * 1024) {
    throw invalidArgument('options.padding', 'must be a multiple of 2048 from 0 to 64 MiB');
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalidArgument('options.signal', 'must be an AbortSignal');
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw invalidArgument('options.onProgress', 'must be a function');
  }
  const dates = options.volumeDates;
  if (dates !== undefined) {
    for (const key of ['created', 'modified'] as const) {
      const value = dates[key];
      if (!(value instanceof Uint8Array) || value.length !== 17)
        throw invalidArgument(`options.volumeDates.${key}`, 'must be a Uint8Array of 17 bytes');
    }
  }
  return Object.freeze({
    volumeId,
    joliet: flag(options.joliet, 'joliet'),
    rockRidge: flag(options.rockRidge, 'rockRidge'),
    publisher: printable(options.publisher ?? '', 'options.publisher', 128, true),
    preparer: printable(options.preparer ?? '', 'options.preparer', 128, true),
    applicationId: printable(options.applicationId ?? 'VMKIT IMAGING', 'options.applicationId', 128, true),
    systemId: printable(options.systemId ?? '', 'options.systemId', 32, true),
    volumeSetId: printable(options.volumeSetId ?? '', 'options.volumeSetId', 128, true),
    timestamp,
    isoLevel,
    padding,
    ...(options.boot !== undefined ? { boot: checkBootOptions(options.boot) } : {}),
    ...(dates !== undefined ? { volumeDates: dates } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

function printable(value: unknown, field: string, max: number, emptyOk: boolean): string {
  if (typeof value !== 'string') throw invalidArgument(field, 'must be a string');
  if (!emptyOk && value.length === 0) throw invalidArgument(field, 'must not be empty');
  if (value.length > max) throw invalidArgument(field, `must be at most ${max} characters`);
  if (!/^[\x20-\x7e]*$/.test(value)) throw invalidArgument(field, 'must be printable ASCII (0x20 to 0x7E)');
  return value;
}
