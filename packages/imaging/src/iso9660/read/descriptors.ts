import { VmkitError } from '@vmkit/core/spi';
import { read16le, read32le } from '../../util/bytes.js';
import { trimPadding } from '../../util/unicode.js';
import type { VolumeIdentity } from '../iso-encode.js';
import { readDirRecordDate, readVolumeDate } from '../iso-time.js';
import type { ByteSource } from './byte-source.js';

/** Sector size of ISO 9660 media. */
const SECTOR = 2048;
/** At most this many descriptors are read before a terminator must appear. */
const MAX_DESCRIPTORS = 64;

/** The root directory an ISO 9660 volume descriptor points at. */
export interface RootExtent {
  /** First sector. */
  readonly lba: number;
  /** Size in bytes. */
  readonly size: number;
}

/** A primary or supplementary volume descriptor, decoded. */
export interface VolumeDescriptorInfo extends Omit<VolumeIdentity, 'timestamp' | 'volumeDates'> {
  /** `primary`, `joliet` (a supplementary descriptor with a UCS-2 escape sequence) or `supplementary`. */
  readonly kind: 'primary' | 'joliet' | 'supplementary';
  /** Volume space size in sectors. */
  readonly volumeSpaceSize: number;
  /** Logical block size (2048 on every medium this reader accepts). */
  readonly blockSize: number;
  /** Volume creation time, if recorded. */
  readonly created?: Date;
  /** Volume modification time, if recorded. */
  readonly modified?: Date;
  /** Root directory extent. */
  readonly root: RootExtent;
  /** Root directory record time. */
  readonly rootTime: Date;
}

/** Everything found in the volume descriptor set. */
export interface DescriptorSet {
  /** The primary volume descriptor. */
  readonly primary: VolumeDescriptorInfo;
  /** The Joliet supplementary descriptor, if any. */
  readonly joliet?: VolumeDescriptorInfo;
  /** Sector of the El Torito boot catalogue, if a boot record names one. */
  readonly bootCatalogLba?: number;
}

function corrupt(message: string): VmkitError {
  return new VmkitError('CORRUPT', `not a valid ISO 9660 image: ${message}`);
}

function decodeText(bytes: Uint8Array, ucs2: boolean): string {
  let text = '';
  if (ucs2) {
    for (let i = 0; i + 1 < bytes.length; i += 2)
      text += String.fromCharCode(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  } else {
    text = String.fromCharCode(...bytes);
  }
  return trimPadding(text);
}

function decode(d: Uint8Array, kind: VolumeDescriptorInfo['kind']): VolumeDescriptorInfo {
  const ucs2 = kind === 'joliet';
  const text = (off: number, width: number) => decodeText(d.subarray(off, off + width), ucs2);
  const blockSize = read16le(d, 128);
  if (blockSize !== SECTOR) throw corrupt(`logical block size ${blockSize} is not supported (only 2048)`);
  const root = d.subarray(156, 190);
  if (root[0] !== 34) throw corrupt('the root directory record has a bad length');
  const created = readVolumeDate(d, 813);
  const modified = readVolumeDate(d, 830);
  return {
    kind,
    volumeId: text(40, 32),
    systemId: text(8, 32),
    volumeSetId: text(190, 128),
    publisher: text(318, 128),
    preparer: text(446, 128),
    applicationId: text(574, 128),
    volumeSpaceSize: read32le(d, 80),
    blockSize,
    ...(created ? { created } : {}),
    ...(modified ? { modified } : {}),
    root: { lba: read32le(root, 2), size: read32le(root, 10) },
    rootTime: readDirRecordDate(root, 18),
  };
}

/** Reads the volume descriptor set from sector 16 up to its terminator. */
export async function readDescriptors(source: ByteSource): Promise<DescriptorSet> {
  if (source.size < 17 * SECTOR)
    throw corrupt(`${source.size} bytes is too small to hold a volume descriptor`);
  let primary: VolumeDescriptorInfo | undefined;
  let joliet: VolumeDescriptorInfo | undefined;
  let bootCatalogLba: number | undefined;
  for (let i = 0; i < MAX_DESCRIPTORS; i++) {
    const offset = (16 + i) * SECTOR;
    if (offset + SECTOR > source.size) break;
    const d = await source.read(offset, SECTOR);
    if (String.fromCharCode(...d.subarray(1, 6)) !== 'CD001') {
      if (i === 0) throw corrupt('no CD001 signature at sector 16');
      throw corrupt(`descriptor at sector ${16 + i} lacks the CD001 signature`);
    }
    const type = d[0];
    if (type === 255) break;
    if (type === 1 && !primary) primary = decode(d, 'primary');
    else if (type === 2 && !joliet) {
      const esc = String.fromCharCode(...d.subarray(88, 91));
      if (esc === '%/@' || esc === '%/C' || esc === '%/E') joliet = decode(d, 'joliet');
    } else if (type === 0) {
      const system = String.fromCharCode(...d.subarray(7, 39));
      if (trimPadding(system) === 'EL TORITO SPECIFICATION') bootCatalogLba = read32le(d, 0x47);
    }
  }
  if (!primary) throw corrupt('no primary volume descriptor');
  return {
    primary,
    ...(joliet ? { joliet } : {}),
    ...(bootCatalogLba !== undefined ? { bootCatalogLba } : {}),
  };
}
