import { integerOption, invalidArgument } from '@vmkit/core/spi';

/** Options of {@link buildConfigDrive}. */
export interface BuildConfigDriveOptions {
  /** Most bytes of file content on the drive (default 64 MiB). */
  readonly maxBytes?: number;
  /** Most files on the drive, generated ones included (default 1000). */
  readonly maxFiles?: number;
  /** OpenStack `random_seed` bytes (default 512 fresh random bytes; give them for reproducible drives). */
  readonly randomSeed?: Uint8Array;
  /** Time stamped on the drive's files (default 2000-01-01T00:00:00Z). */
  readonly timestamp?: Date | number;
  /** Stops the build. */
  readonly signal?: AbortSignal;
}

/** {@link BuildConfigDriveOptions} validated, with defaults applied. */
export interface ResolvedConfigDriveOptions {
  /** Most bytes of file content. */
  readonly maxBytes: number;
  /** Most files. */
  readonly maxFiles: number;
  /** OpenStack random seed, when given. */
  readonly randomSeed?: Uint8Array;
  /** Time stamped on files, when given. */
  readonly timestamp?: Date | number;
  /** Stops the build. */
  readonly signal?: AbortSignal;
}

/** Default limit on the content of a config drive: 64 MiB. */
export const DEFAULT_CONFIG_DRIVE_MAX_BYTES = 64 * 1024 * 1024;
/** Default limit on the number of files of a config drive. */
export const DEFAULT_CONFIG_DRIVE_MAX_FILES = 1000;

/** Validates `options` eagerly, naming the bad option. */
export function resolveConfigDriveOptions(options: BuildConfigDriveOptions = {}): ResolvedConfigDriveOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'must be an object');
  const positive = (value: number | undefined, name: string, fallback: number) =>
    integerOption(`options.${name}`, value, fallback);
  if (options.randomSeed !== undefined && !(options.randomSeed instanceof Uint8Array)) {
    throw invalidArgument('options.randomSeed', 'must be a Uint8Array');
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalidArgument('options.signal', 'must be an AbortSignal');
  }
  return Object.freeze({
    maxBytes: positive(options.maxBytes, 'maxBytes', DEFAULT_CONFIG_DRIVE_MAX_BYTES),
    maxFiles: positive(options.maxFiles, 'maxFiles', DEFAULT_CONFIG_DRIVE_MAX_FILES),
    ...(options.randomSeed ? { randomSeed: options.randomSeed } : {}),
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
