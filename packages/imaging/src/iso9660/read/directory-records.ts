import { VmkitError } from '@vmkit/core/spi';
import { read32le } from '../../util/bytes.js';
import { readDirRecordDate } from '../iso-time.js';

const SECTOR = 2048;

/** One directory record as recorded (ECMA-119 9.1). */
export interface RawRecord {
  /** First sector of the extent. */
  readonly lba: number;
  /** Data length in bytes. */
  readonly size: number;
  /** File flags (0x02 directory, 0x80 multi-extent). */
  readonly flags: number;
  /** File identifier bytes. */
  readonly identifier: Uint8Array;
  /** Recording date. */
  readonly time: Date;
  /** The system use field (SUSP entries). */
  readonly systemUse: Uint8Array;
}

/** Parses every record of a directory extent; malformed records are `CORRUPT`. */
export function parseDirectory(extent: Uint8Array, where: string): RawRecord[] {
  return [...directoryRecords(extent, where)];
}

/** Yields the records of a directory extent one at a time; a malformed record is `CORRUPT` when reached. */
export function* directoryRecords(extent: Uint8Array, where: string): Generator<RawRecord> {
  let pos = 0;
  while (pos < extent.length) {
    const len = extent[pos] ?? 0;
    if (len === 0) {
      pos = (Math.floor(pos / SECTOR) + 1) * SECTOR;
      continue;
    }
    const sectorEnd = (Math.floor(pos / SECTOR) + 1) * SECTOR;
    const nameLen = extent[pos + 32] ?? 0;
    if (len < 34 || pos + len > Math.min(sectorEnd, extent.length) || 33 + nameLen > len) {
      throw new VmkitError('CORRUPT', `malformed directory record at byte ${pos} of ${where}`, {
        details: { where, offset: pos },
      });
    }
    const rec = extent.subarray(pos, pos + len);
    const suStart = 33 + nameLen + (nameLen % 2 === 0 ? 1 : 0);
    yield {
      lba: read32le(rec, 2),
      size: read32le(rec, 10),
      flags: rec[25] ?? 0,
      identifier: rec.subarray(33, 33 + nameLen),
      time: readDirRecordDate(rec, 18),
      systemUse: suStart < len ? rec.subarray(suStart) : new Uint8Array(0),
    };
    pos += len;
  }
}
