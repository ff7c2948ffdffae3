import { constants, createReadStream, createWriteStream } from 'node:fs';
import { copyFile, open, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import {
  encodeSaveImageHead,
  parseSaveImageData,
  parseSaveImageHeader,
  SAVE_IMAGE_HEADER_BYTES,
  type SaveImageData,
  type SaveImageHeader,
  saveImageCorrupt,
  saveImageDataBytes,
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

/** How a clone's state image reused the template's migration stream. */
export type StreamReuse = 'clone' | 'stream';

/**
 * Writes the state image of one clone at `target` (which must not exist): the template's image at
 * `source` with the clone's own domain XML and cookie in its data section. When they fit in the
 * template's data length (libvirt pads the data section), the file is cloned whole — a reflink on
 * file systems that share extents (btrfs, XFS), an in-kernel copy elsewhere — and only the head is
 * rewritten in the copy, so the stream stays where the header says; otherwise a longer head is
 * written and the stream copied after it. The source is opened read-only. On failure the target
 * is removed.
 */
export async function writeCloneStateImage(
  source: SaveImageFile & { readonly path: string },
  target: string,
  content: SaveImageData,
): Promise<StreamReuse> {
  const { header } = source;
  try {
    if (saveImageDataBytes(content) <= header.dataLength) {
      await copyFile(source.path, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      const head = encodeSaveImageHead(header, content, header.dataLength);
      const file = await open(target, 'r+');
      try {
        await file.write(head, 0, head.length, 0);
      } finally {
        await file.close();
      }
      return 'clone';
    }
    const dataLength = Math.ceil((saveImageDataBytes(content) + 4096) / 4096) * 4096;
    const head = encodeSaveImageHead(header, content, dataLength);
    const out = await open(target, 'wx', 0o600);
    try {
      await out.write(head, 0, head.length, 0);
    } finally {
      await out.close();
    }
    await pipeline(
      createReadStream(source.path, { start: SAVE_IMAGE_HEADER_BYTES + header.dataLength }),
      createWriteStream(target, { flags: 'r+', start: head.length }),
    );
    return 'stream';
  } catch (error) {
    await rm(target, { force: true });
    throw error;
  }
}
