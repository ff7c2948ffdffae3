import { Readable } from 'node:stream';
import { abortedError, type VmkitError } from '@vmkit/core';
import { connectionError } from '../errors/libvirt-error.js';
import type { Packet } from './packet.js';
import { MessageStatus, MessageType, STREAM_CHUNK_SIZE } from './protocol.js';
import { decodeError, type RpcConnection } from './rpc-connection.js';

/** Bytes to send: a whole array, or chunks from a Node stream or any async iterable. */
export type UploadSource = Uint8Array | AsyncIterable<Uint8Array>;

/** Options of stream transfers. */
export interface StreamTransferOptions {
  /** Aborts the transfer; the daemon is told (an ERROR stream packet) and the call fails with `ABORTED`. */
  readonly signal?: AbortSignal;
  /** Called with the bytes moved so far. */
  readonly onBytes?: (bytes: number) => void;
}

/**
 * Runs a call that uploads data (e.g. `STORAGE_VOL_UPLOAD`): sends the call, then the data as
 * STREAM/CONTINUE packets of at most {@link STREAM_CHUNK_SIZE} bytes (waiting for the socket to
 * drain between packets), then STREAM/OK, and waits for the daemon's STREAM/OK confirmation.
 */
export async function uploadCall(
  conn: RpcConnection,
  procedure: number,
  args: Uint8Array,
  source: UploadSource,
  options: StreamTransferOptions = {},
): Promise<number> {
  const { serial, reply } = conn.startCall(procedure, args, options.signal);
  let failure: VmkitError | undefined;
  let finished: ((error?: VmkitError) => void) | undefined;
  conn.openStream(serial, (event) => {
    const error = streamEventError(event, procedure);
    if (error) failure = error;
    finished?.(error);
  });
  let sent = 0;
  try {
    await reply;
    const chunks = Symbol.asyncIterator in source ? source : [source];
    for await (const chunk of chunks as AsyncIterable<Uint8Array>) {
      for (let at = 0; at < chunk.length; at += STREAM_CHUNK_SIZE) {
        if (failure) throw failure;
        if (options.signal?.aborted) throw abortedError(options.signal, 'upload');
        const part = chunk.subarray(at, Math.min(chunk.length, at + STREAM_CHUNK_SIZE));
        await conn.sendStream(procedure, serial, MessageStatus.CONTINUE, part);
        sent += part.length;
        options.onBytes?.(sent);
      }
    }
    if (failure) throw failure;
    const confirmed = new Promise<void>((resolve, reject) => {
      finished = (error) => (error ? reject(error) : resolve());
    });
    await conn.sendStream(procedure, serial, MessageStatus.OK);
    await confirmed;
    return sent;
  } catch (error) {
    if (!conn.closed && !failure) await abortStream(conn, procedure, serial);
    throw error;
  } finally {
    conn.endStream(serial);
  }
}

/**
 * Runs a call that downloads data (e.g. `STORAGE_VOL_DOWNLOAD`) and returns its bytes as a
 * readable stream. A slow reader pauses the socket (backpressure); destroying the stream early
 * aborts the transfer on the daemon's side.
 */
export async function downloadCall(
  conn: RpcConnection,
  procedure: number,
  args: Uint8Array,
  options: StreamTransferOptions = {},
): Promise<Readable> {
  const { serial, reply } = conn.startCall(procedure, args, options.signal);
  let received = 0;
  let ended = false;
  const readable = new Readable({
    highWaterMark: 4 * STREAM_CHUNK_SIZE,
    read() {
      conn.resume();
    },
    destroy(error, callback) {
      conn.resume();
      if (!ended) {
        ended = true;
        conn.endStream(serial);
        if (!conn.closed) void abortStream(conn, procedure, serial);
      }
      callback(error);
    },
  });
  const onAbort = () => readable.destroy(abortedError(options.signal as AbortSignal, 'download'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  readable.once('close', () => options.signal?.removeEventListener('abort', onAbort));
  conn.openStream(serial, (event) => {
    if (ended) return;
    const error = streamEventError(event, procedure);
    if (error) {
      ended = true;
      conn.endStream(serial);
      readable.destroy(error);
      return;
    }
    const packet = event as Packet;
    // libvirtd marks the end of data with an empty CONTINUE packet (an OK packet would do too).
    if (packet.header.status === MessageStatus.CONTINUE && packet.payload.length > 0) {
      received += packet.payload.length;
      options.onBytes?.(received);
      if (!readable.push(packet.payload)) conn.pause();
    } else {
      // End of data: confirm with our own STREAM/OK, as libvirt's client does when it finishes.
      ended = true;
      conn.endStream(serial);
      void conn.sendStream(procedure, serial, MessageStatus.OK).catch(() => {});
      readable.push(null);
    }
  });
  try {
    await reply;
  } catch (error) {
    ended = true;
    conn.endStream(serial);
    readable.destroy();
    throw error;
  }
  return readable;
}

/** The error a stream event carries, if any: a lost connection or a STREAM/ERROR packet. */
function streamEventError(event: Packet | VmkitError, procedure: number): VmkitError | undefined {
  if (!('header' in event)) return event;
  if (event.header.type === MessageType.STREAM_HOLE) {
    return connectionError('libvirtd sent a sparse-stream hole, which this client did not ask for');
  }
  if (event.header.status === MessageStatus.ERROR) return decodeError(event.payload, procedure);
  return undefined;
}

/** Tells the daemon the stream is aborted (STREAM/ERROR without payload); never throws. */
async function abortStream(conn: RpcConnection, procedure: number, serial: number): Promise<void> {
  try {
    await conn.sendStream(procedure, serial, MessageStatus.ERROR);
  } catch {
    // The connection is gone; nothing left to abort.
  }
}
