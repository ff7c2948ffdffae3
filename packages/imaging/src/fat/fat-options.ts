import type { ProgressListener } from '@vmkit/core';
import { invalidArgument } from '@vmkit/core/spi';
import { DEFAULT_MEDIA_TIME } from '../iso9660/iso-options.js';
import { checkFatDate } from './fat-dir-entries.js';
import type { FatType } from './fat-geometry.js';

/** Options of {@link writeFat} and {@link writeFatToFile}. */
export interface WriteFatOptions {
  /**
   * Volume label, 1 to 11 printable ASCII characters without `" * + , . / : ; < = > ? [ \ ] |`,
   * kept as given (`cidata`, `config-2`). It is recorded both in the boot sector and in the root
   * directory's volume-label entry, where blkid and cloud-init look first.
   */
  readonly label: string;
  /** Volume size in bytes, a multiple of 512 (default: the content plus room, rounded up to 1 MiB). */
  readonly sizeBytes?: number;
  /** FAT12, FAT16 or FAT32 (default chosen by size: under 16 MiB FAT12, under 512 MiB FAT16, else FAT32). */
  readonly fatType?: FatType;
  /** Volume serial number (default derived from the label and the timestamp, so output is deterministic). */
  readonly volumeSerial?: number;
  /** Default time of entries and of the label (default 2000-01-01T00:00:00Z). */
  readonly timestamp?: Date | number;
  /** Stops the write; a partial output file is removed. */
  readonly signal?: AbortSignal;
  /** Progress events (phase `transfer`). */
  readonly onProgress?: ProgressListener;
}

/** {@link WriteFatOptions} validated, with defaults applied. */
export interface ResolvedFatOptions {
  /** Volume label. */
  readonly label: string;
  /** Volume size, when given. */
  readonly sizeBytes?: number;
  /** FAT type, when given. */
  readonly fatType?: FatType;
  /** Volume serial number. */
  readonly volumeSerial: number;
  /** Default entry time. */
  readonly timestamp: Date;
  /** Stops the write. */
  readonly signal?: AbortSignal;
  /** Progress events. */
  readonly onProgress?: ProgressListener;
}

/** Smallest volume accepted. */
export const FAT_MIN_SIZE = 64 * 1024;
/** Largest volume accepted: 2^32 - 1 sectors of 512 bytes. */
export const FAT_MAX_SIZE = 0xffffffff * 512;

/** Validates `options` eagerly, naming the bad option, and applies defaults. */
export function resolveFatOptions(options: WriteFatOptions): ResolvedFatOptions {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'must be an object');
  const { label } = options;
  if (typeof label !== 'string' || label.length < 1 || label.length > 11) {
    throw invalidArgument('options.label', 'must be a string of 1 to 11 characters');
  }
  if (!/^[\x20-\x7e]+$/.test(label) || /["*+,./:;<=>?[\\\]|]/.test(label) || label.startsWith(' ')) {
    throw invalidArgument(
      'options.label',
      'must be printable ASCII without " * + , . / : ; < = > ? [ \\ ] | and not start with a space',
    );
  }
  const { sizeBytes, fatType } = options;
  if (sizeBytes !== undefined) {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes % 512 !== 0)
      throw invalidArgument('options.sizeBytes', 'must be a multiple of 512');
    if (sizeBytes < FAT_MIN_SIZE || sizeBytes > FAT_MAX_SIZE) {
      throw invalidArgument('options.sizeBytes', `must be between ${FAT_MIN_SIZE} and ${FAT_MAX_SIZE} bytes`);
    }
  }
  if (fatType !== undefined && fatType !== 12 && fatType !== 16 && fatType !== 32) {
    throw invalidArgument('options.fatType', 'must be 12, 16 or 32');
  }
  const timestamp = options.timestamp === undefined ? DEFAULT_MEDIA_TIME : new Date(options.timestamp);
  if (Number.isNaN(timestamp.getTime()))
    throw invalidArgument('options.timestamp', 'must be a valid Date or epoch milliseconds');
  checkFatDate(timestamp, 'options.timestamp');
  const serial = options.volumeSerial ?? defaultSerial(label, timestamp);
  if (!Number.isInteger(serial) || serial < 0 || serial > 0xffffffff) {
    throw invalidArgument('options.volumeSerial', 'must be an integer from 0 to 0xFFFFFFFF');
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalidArgument('options.signal', 'must be an AbortSignal');
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw invalidArgument('options.onProgress', 'must be a function');
  }
  return Object.freeze({
    label,
    ...(sizeBytes !== undefined ? { sizeBytes } : {}),
    ...(fatType !== undefined ? { fatType } : {}),
    volumeSerial: serial,
    timestamp,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/** FNV-1a of the label and the time: a stable serial for the same input. */
function defaultSerial(label: string, timestamp: Date): number {
  let hash = 0x811c9dc5;
  for (const ch of `${label}\u0000${timestamp.toISOString()}`) {
    hash ^= ch.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
