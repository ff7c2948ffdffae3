import { execFile } from 'node:child_process';
import { constants, createReadStream, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  encodeSaveImageHead,
  SAVE_IMAGE_HEADER_BYTES,
  type SaveImageData,
  saveImageDataBytes,
} from './save-image.js';
import type { SaveImageFile } from './state-image-file.js';

const run = promisify(execFile);

/** A clone's state image being fed through a FIFO (see {@link feedCloneStateImage}). */
export interface StateImageFeed {
  /** The FIFO's path: hand it to libvirt's restore. */
  readonly path: string;
  /** Settles when every byte was written (or the feed failed or was closed). */
  readonly done: Promise<void>;
  /** Stops feeding and removes the FIFO; idempotent. */
  close(): Promise<void>;
}

/**
 * Feeds the state image of one clone through a FIFO at `path` instead of writing a file: the
 * clone's header and data section (its own XML and cookie, padded as {@link encodeSaveImageHead}
 * lays it out), then the template's migration stream read from `source` (only read). libvirt reads
 * a save image sequentially (a compressed one comes through a pipe from its decompressor), so
 * nothing of the ~100 MB stream is written to disk per clone. The FIFO is opened read-write and
 * non-blocking and written through a libuv pipe handle, so a restore that never opens it blocks
 * no thread: {@link StateImageFeed.close} ends the feed.
 */
export async function feedCloneStateImage(
  source: SaveImageFile & { readonly path: string },
  path: string,
  content: SaveImageData,
): Promise<StateImageFeed> {
  const dataLength = Math.max(
    source.header.dataLength,
    Math.ceil((saveImageDataBytes(content) + 4096) / 4096) * 4096,
  );
  const head = encodeSaveImageHead(source.header, content, dataLength);
  await run('mkfifo', ['-m', '600', path]);
  let socket: Socket;
  try {
    socket = new Socket({
      fd: openSync(path, constants.O_RDWR | constants.O_NONBLOCK),
      readable: false,
      writable: true,
    });
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  const stream = createReadStream(source.path, { start: SAVE_IMAGE_HEADER_BYTES + source.header.dataLength });
  socket.write(head);
  const done = pipeline(stream, socket).catch(() => {});
  let closed = false;
  return {
    path,
    done,
    async close() {
      if (closed) return;
      closed = true;
      stream.destroy();
      socket.destroy();
      await rm(path, { force: true });
    },
  };
}
