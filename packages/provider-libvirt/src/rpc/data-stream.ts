import { Readable } from 'node:stream';
import type { VmkitError } from '@vmkit/core/spi';
import { abortedError } from '@vmkit/core/spi';
import { connectionError } from '../errors/libvirt-error.js';
import type { Packet } from './packet.js';
import { procedureName } from './procedures.js';
import { MessageStatus, MessageType, STREAM_CHUNK_SIZE } from './protocol.js';
import type { RpcConnection } from './rpc-connection.js';
import { decodeError } from './rpc-errors.js';

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
 * readable stream. A reader that falls behind is buffered for and, past a bound, slows the
 * socket (see `ReadFlow`); destroying the stream early, or aborting the signal at any
 * point after the call was sent, aborts the transfer on the daemon's side (STREAM/ERROR).
 */
export async function downloadCall(
  conn: RpcConnection,
  procedure: number,
  args: Uint8Array,
  options: StreamTransferOptions = {},
): Promise<Readable> {
  const signal = options.signal;
  if (signal?.aborted) throw abortedError(signal, 'download');
  // The signal is handled here, not by the call: an abort must also reach the daemon.
  const { serial, reply } = conn.startCall(procedure, args);
  let received = 0;
  let ended = false;
  /** Stops routing the stream and, unless the daemon ended it, tells the daemon to abort. */
  const end = (abort: boolean) => {
    if (ended) return;
    ended = true;
    conn.endStream(serial);
    if (abort && !conn.closed) void abortStream(conn, procedure, serial);
  };
  const readable = new Readable({
    highWaterMark: 4 * STREAM_CHUNK_SIZE,
    read() {
      if (!ended) conn.setStreamBacklog(serial, undefined);
    },
    destroy(error, callback) {
      end(true);
      callback(error);
    },
  });
  conn.openStream(serial, (event) => {
    if (ended) return;
    const error = streamEventError(event, procedure);
    if (error) {
      end(false);
      readable.destroy(error);
      return;
    }
    const packet = event as Packet;
    // libvirtd marks the end of data with an empty CONTINUE packet (an OK packet would do too).
    if (packet.header.status === MessageStatus.CONTINUE && packet.payload.length > 0) {
      received += packet.payload.length;
      options.onBytes?.(received);
      if (!readable.push(packet.payload)) conn.setStreamBacklog(serial, readable.readableLength);
    } else {
      // End of data: confirm with our own STREAM/OK, as libvirt's client does when it finishes.
      end(false);
      void conn.sendStream(procedure, serial, MessageStatus.OK).catch(() => {});
      readable.push(null);
    }
  });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(signal as AbortSignal, 'download'));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
  });
  aborted.catch(() => {});
  try {
    await Promise.race([reply, aborted]);
  } catch (error) {
    const abortedLocally = signal?.aborted === true;
    end(abortedLocally);
    readable.destroy();
    if (abortedLocally) {
      // The daemon may not have set the stream up yet (an early abort packet is dropped): abort
      // again once its reply shows the stream exists.
      reply.then(
        () => (conn.closed ? undefined : abortStream(conn, procedure, serial)),
        () => {},
      );
    }
    throw error;
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
  // After the reply, an abort destroys the stream (which aborts it on the daemon's side).
  if (signal) {
    const onLateAbort = () => readable.destroy(abortedError(signal, 'download'));
    signal.addEventListener('abort', onLateAbort, { once: true });
    readable.once('close', () => signal.removeEventListener('abort', onLateAbort));
  }
  return readable;
}

/** The error a stream event carries, if any: a lost connection or a STREAM/ERROR packet. */
function streamEventError(event: Packet | VmkitError, procedure: number): VmkitError | undefined {
  if (!('header' in event)) return event;
  if (event.header.type === MessageType.STREAM_HOLE) {
    return connectionError('libvirtd sent a sparse-stream hole, which this client did not ask for');
  }
  if (event.header.status === MessageStatus.ERROR)
    return decodeError(event.payload, procedureName(procedure));
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
