import { open } from 'node:fs/promises';
import {
  parseSaveImageData,
  parseSaveImageHeader,
  SAVE_IMAGE_HEADER_BYTES,
  type SaveImageData,
  type SaveImageHeader,
  saveImageCorrupt,
} from './save-image.js';

/** A save image's header and data section, as read from its file. */
export interface SaveImageFile extends SaveImageData {
  readonly header: SaveImageHeader;
  /** Bytes of the whole file. */
  readonly size: number;
}

/**
 * Reads and checks the header and data section of the save image at `path` (never written): the
 * data length is checked before the data is read, and the file must hold a stream after them.
 * `CORRUPT` naming the rule, `NOT_FOUND`-like errors from the file system as they come.
 */
export async function readSaveImageFile(path: string): Promise<SaveImageFile> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const head = Buffer.alloc(SAVE_IMAGE_HEADER_BYTES);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    const header = parseSaveImageHeader(head.subarray(0, bytesRead));
    const data = Buffer.alloc(header.dataLength);
    const got = await file.read(data, 0, data.length, SAVE_IMAGE_HEADER_BYTES);
    const content = parseSaveImageData(header, data.subarray(0, got.bytesRead));
    if (size <= SAVE_IMAGE_HEADER_BYTES + header.dataLength)
      throw saveImageCorrupt('the file must hold a migration stream after the data');
    return { header, size, ...content };
  } finally {
    await file.close();
  }
}
