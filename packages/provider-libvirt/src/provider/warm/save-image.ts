import { VmkitError } from '@vmkit/core/spi';

/**
 * libvirt's QEMU save-image layout (facts from libvirt's `src/qemu/qemu_saveimage.h`): a 92-byte
 * header — the 16-byte magic `LibvirtQemudSave` (`LibvirtQemudPart` while a save is unfinished),
 * then host-endian (little-endian here) u32s: version (2), data length, was-running, compression
 * format, cookie offset, and 14 unused u32s — then `dataLength` bytes holding the domain XML
 * (NUL-terminated), the migration cookie at `cookieOffset` (version 2, NUL-terminated) and zero
 * padding, then QEMU's migration stream to the end of the file.
 */
export const SAVE_IMAGE_MAGIC = 'LibvirtQemudSave';
/** The magic of a save libvirt has not finished. */
export const SAVE_IMAGE_PARTIAL_MAGIC = 'LibvirtQemudPart';
/** Bytes of the fixed header. */
export const SAVE_IMAGE_HEADER_BYTES = 92;
/**
 * The largest data section (XML, cookie, padding) read: a domain's XML is a few KiB; anything
 * huge is a hostile or broken file, refused before it is read into memory.
 */
export const MAX_SAVE_IMAGE_DATA_BYTES = 4 * 1024 * 1024;
/** Compression formats libvirt names (0 raw, 1 gzip, 2 bzip2, 3 xz, 4 lzop, 5 zstd). */
const MAX_COMPRESSION = 5;

/** The fixed header of a save image. */
export interface SaveImageHeader {
  /** 1 or 2 (2 adds the migration cookie). */
  readonly version: number;
  /** Bytes of the data section after the header: the stream starts at 92 + this. */
  readonly dataLength: number;
  /** Whether the domain ran when saved (it is resumed running on restore). */
  readonly wasRunning: boolean;
  /** Compression of the migration stream (0: raw). */
  readonly compression: number;
  /** Offset of the cookie inside the data section (0: none). */
  readonly cookieOffset: number;
}

/** The data section: the domain XML and the migration cookie. */
export interface SaveImageData {
  readonly xml: string;
  readonly cookie?: string;
}

/** The `CORRUPT` error of a save image breaking `rule`. */
export function saveImageCorrupt(rule: string): VmkitError {
  return new VmkitError('CORRUPT', `save image: ${rule}`, { details: { field: 'saveImage', rule } });
}

/** Reads and checks the fixed header; `CORRUPT` naming the rule it breaks. */
export function parseSaveImageHeader(head: Uint8Array): SaveImageHeader {
  if (head.length < SAVE_IMAGE_HEADER_BYTES)
    throw saveImageCorrupt(`header must be ${SAVE_IMAGE_HEADER_BYTES} bytes (got ${head.length})`);
  const magic = Buffer.from(head.subarray(0, 16)).toString('latin1');
  if (magic === SAVE_IMAGE_PARTIAL_MAGIC) throw saveImageCorrupt('magic says the save never finished');
  if (magic !== SAVE_IMAGE_MAGIC) throw saveImageCorrupt(`magic must be ${SAVE_IMAGE_MAGIC}`);
  const view = new DataView(head.buffer, head.byteOffset, SAVE_IMAGE_HEADER_BYTES);
  const u32 = (i: number) => view.getUint32(16 + 4 * i, true);
  const version = u32(0);
  if (version !== 1 && version !== 2) throw saveImageCorrupt(`version must be 1 or 2 (got ${version})`);
  const dataLength = u32(1);
  if (dataLength < 1 || dataLength > MAX_SAVE_IMAGE_DATA_BYTES)
    throw saveImageCorrupt(`data length must be 1 to ${MAX_SAVE_IMAGE_DATA_BYTES} bytes (got ${dataLength})`);
  const running = u32(2);
  if (running > 1) throw saveImageCorrupt(`was-running must be 0 or 1 (got ${running})`);
  const compression = u32(3);
  if (compression > MAX_COMPRESSION)
    throw saveImageCorrupt(`compression must be 0-${MAX_COMPRESSION} (got ${compression})`);
  const cookieOffset = version === 2 ? u32(4) : 0;
  if (cookieOffset >= dataLength)
    throw saveImageCorrupt(`cookie offset must lie inside the data (got ${cookieOffset})`);
  return { version, dataLength, wasRunning: running === 1, compression, cookieOffset };
}

function cString(data: Uint8Array, from: number, what: string): string {
  const end = data.indexOf(0, from);
  if (end < 0) throw saveImageCorrupt(`${what} must end with a NUL byte inside the data`);
  return Buffer.from(data.subarray(from, end)).toString('utf8');
}

/** Reads the XML and cookie of a data section whose header was checked. */
export function parseSaveImageData(header: SaveImageHeader, data: Uint8Array): SaveImageData {
  if (data.length !== header.dataLength)
    throw saveImageCorrupt(`data must be ${header.dataLength} bytes (got ${data.length})`);
  const xml = cString(data, 0, 'the XML');
  if (!xml.startsWith('<domain')) throw saveImageCorrupt('the XML must be a <domain> element');
  if (header.cookieOffset === 0) return { xml };
  if (header.cookieOffset <= Buffer.byteLength(xml)) throw saveImageCorrupt('the cookie must follow the XML');
  return { xml, cookie: cString(data, header.cookieOffset, 'the cookie') };
}

/**
 * The header and data section of a save image holding `content`, in exactly `dataLength` bytes
 * (the XML, its NUL, the cookie and its NUL, zero padding), so that a migration stream copied
 * after it starts where the header says. `PROVIDER` when the content does not fit.
 */
export function encodeSaveImageHead(
  header: Omit<SaveImageHeader, 'dataLength' | 'cookieOffset'>,
  content: SaveImageData,
  dataLength: number,
): Uint8Array {
  const xml = Buffer.from(content.xml, 'utf8');
  const cookie = content.cookie === undefined ? undefined : Buffer.from(content.cookie, 'utf8');
  const needed = xml.length + 1 + (cookie ? cookie.length + 1 : 0);
  if (needed > dataLength || dataLength > MAX_SAVE_IMAGE_DATA_BYTES)
    throw new VmkitError(
      'PROVIDER',
      `save image: ${needed} bytes of XML and cookie do not fit in ${dataLength}`,
      {
        details: { needed, dataLength },
      },
    );
  const out = new Uint8Array(SAVE_IMAGE_HEADER_BYTES + dataLength);
  out.set(Buffer.from(SAVE_IMAGE_MAGIC, 'latin1'), 0);
  const view = new DataView(out.buffer);
  const cookieOffset = cookie ? xml.length + 1 : 0;
  const fields = [header.version, dataLength, header.wasRunning ? 1 : 0, header.compression, cookieOffset];
  for (const [i, v] of fields.entries()) view.setUint32(16 + 4 * i, v, true);
  out.set(xml, SAVE_IMAGE_HEADER_BYTES);
  if (cookie) out.set(cookie, SAVE_IMAGE_HEADER_BYTES + cookieOffset);
  return out;
}

/** Bytes needed for a data section holding `content` (without padding). */
export function saveImageDataBytes(content: SaveImageData): number {
  return (
    Buffer.byteLength(content.xml) +
    1 +
    (content.cookie === undefined ? 0 : Buffer.byteLength(content.cookie) + 1)
  );
}
