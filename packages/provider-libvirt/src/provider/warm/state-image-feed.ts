import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, constants, createReadStream, openSync } from 'node:fs';
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

/** What a `dd` says of operands it does not take (before it reads or writes anything). */
const UNSUPPORTED_DD = /invalid|unrecognized|unknown|not supported|usage/i;

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
 * nothing of the stream is written to disk per clone. The head is written through a libuv pipe
 * handle on a read-write, non-blocking descriptor of the FIFO; the stream is then copied by a `dd`
 * process into a blocking descriptor (the kernel wakes it as the restore reads, with no turn of
 * this process's event loop per 64 KiB pipe buffer: under load and with many clones at once that
 * was the stream's pace), or through Node where `dd` cannot be started. A restore that never opens
 * the FIFO blocks no thread of this process: {@link StateImageFeed.close} kills `dd`.
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
  const offset = SAVE_IMAGE_HEADER_BYTES + source.header.dataLength;
  let child: ChildProcess | undefined;
  let stream: ReturnType<typeof createReadStream> | undefined;
  let closed = false;
  /** The stream through Node, where `dd` cannot be started. */
  const throughNode = (): Promise<void> => {
    if (closed) return Promise.resolve();
    stream = createReadStream(source.path, { start: offset });
    return pipeline(stream, socket);
  };
  const done = new Promise<void>((resolve, reject) => {
    socket.write(head, (error) => {
      if (error) return reject(error);
      if (closed) return resolve();
      // The stream is copied by `dd` into a blocking descriptor of the FIFO: the kernel wakes it
      // as the restore reads, without a turn of this process's event loop for every 64 KiB.
      // Write-only (it does not block: this process's descriptor is a reader), so `dd` is never a
      // reader of its own FIFO: should this process die before the restore reads, `dd` gets EPIPE.
      let fd: number;
      try {
        fd = openSync(path, constants.O_WRONLY);
      } catch {
        throughNode().then(resolve, reject);
        return;
      }
      const dd = spawn(
        'dd',
        [`if=${source.path}`, 'bs=1M', `skip=${offset}`, 'iflag=skip_bytes', 'status=none'],
        { stdio: ['ignore', fd, 'pipe'] },
      );
      child = dd;
      closeSync(fd);
      let stderr = '';
      dd.stderr?.on('data', (d: Buffer) => {
        if (stderr.length < 4096) stderr += d.toString();
      });
      dd.once('error', () => {
        child = undefined;
        throughNode().then(resolve, reject);
      });
      dd.once('exit', (code) => {
        if (child !== dd) return;
        child = undefined;
        // A `dd` that refused its operands (not GNU's: no `iflag=skip_bytes`) wrote nothing.
        if (code !== 0 && UNSUPPORTED_DD.test(stderr)) {
          throughNode().then(resolve, reject);
          return;
        }
        // The FIFO's last writer goes: the reader sees the end once it has read the rest.
        socket.destroy();
        if (code === 0) resolve();
        else reject(new Error(`dd exited with ${code}: ${stderr.trim()}`));
      });
    });
  }).catch(() => {});
  return {
    path,
    done,
    async close() {
      if (closed) return;
      closed = true;
      child?.kill('SIGKILL');
      stream?.destroy();
      socket.destroy();
      await rm(path, { force: true });
    },
  };
}
