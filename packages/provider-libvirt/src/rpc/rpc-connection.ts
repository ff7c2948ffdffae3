import type { Duplex } from 'node:stream';
import { abortedError, integerOption, VmkitError } from '@vmkit/core/spi';
import { connectionError, LibvirtError } from '../errors/libvirt-error.js';
import { KeepaliveMonitor, keepalivePacket } from './keepalive-monitor.js';
import { encodePacket, FrameDecoder, type Packet, type PacketHeader } from './packet.js';
import { KEEPALIVE_PROGRAM, KeepaliveProcedure, MessageStatus, MessageType } from './protocol.js';
import { DEFAULT_STREAM_BACKLOG_MAX, ReadFlow } from './read-flow.js';
import type { RpcConnectionOptions, StreamPacketHandler } from './rpc-connection-options.js';
import { decodeError, toConnectionError } from './rpc-errors.js';
import { QEMU_RPC_PROGRAM, REMOTE_RPC_PROGRAM, type RpcProgram } from './rpc-program.js';

export type { RpcConnectionOptions, StreamPacketHandler } from './rpc-connection-options.js';

/** Programs whose replies this connection takes (the keepalive program is handled apart). */
const CALL_PROGRAMS: ReadonlySet<number> = new Set([REMOTE_RPC_PROGRAM.id, QEMU_RPC_PROGRAM.id]);

interface Pending {
  /** The procedure's name, for its error. */
  readonly name: string;
  resolve(payload: Uint8Array): void;
  reject(error: VmkitError): void;
}

/**
 * One RPC session with libvirtd over a byte stream: frames packets, numbers calls with serials
 * and matches replies to them (so calls may overlap), answers and sends keepalive pings, routes
 * events and stream packets. Knows nothing of procedures' arguments: it moves payload bytes.
 */
export class RpcConnection {
  readonly #socket: Duplex;
  readonly #options: RpcConnectionOptions;
  readonly #decoder = new FrameDecoder();
  readonly #pending = new Map<number, Pending>();
  readonly #streams = new Map<number, StreamPacketHandler>();
  readonly #flow: ReadFlow;
  #serial = 0;
  #closed: VmkitError | undefined;
  #keepalive: KeepaliveMonitor | undefined;
  /** Whether reading is paused (by us, for lagging downloads). */
  #paused = false;

  constructor(socket: Duplex, options: RpcConnectionOptions = {}) {
    this.#socket = socket;
    this.#options = options;
    const interval = integerOption('keepaliveIntervalMs', options.keepaliveIntervalMs, 5000, { min: 0 });
    const count = integerOption('keepaliveCount', options.keepaliveCount, 5);
    this.#flow = new ReadFlow(
      integerOption('streamBacklogMaxBytes', options.streamBacklogMaxBytes, DEFAULT_STREAM_BACKLOG_MAX),
    );
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error: Error) => this.#fail(toConnectionError(error)));
    socket.on('close', () => this.#fail(connectionError('connection to libvirtd lost')));
    socket.on('end', () => this.#fail(connectionError('connection to libvirtd closed by the daemon')));
    // A transport may hand its stream over paused (TLS, after reading libvirtd's confirmation byte).
    socket.resume();
    if (interval > 0) {
      this.#keepalive = new KeepaliveMonitor(interval, count, {
        paused: () => this.#paused,
        send: (packet) => {
          if (!this.#closed) this.#socket.write(packet);
        },
        dead: (silent) => {
          this.#fail(connectionError(`libvirtd did not answer keepalive pings for ${silent} ms`));
          this.#socket.destroy();
        },
      });
    }
  }

  /** Whether the connection is closed (on purpose or not). */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /**
   * Calls a procedure of `program` (default: the remote program); resolves with the reply payload,
   * rejects with a {@link LibvirtError}.
   */
  call(
    procedure: number,
    args?: Uint8Array,
    signal?: AbortSignal,
    program: RpcProgram = REMOTE_RPC_PROGRAM,
  ): Promise<Uint8Array> {
    return this.startCall(procedure, args, signal, program).reply;
  }

  /** Sends a call and returns its serial (for stream packets) with the promise of its reply. */
  startCall(
    procedure: number,
    args?: Uint8Array,
    signal?: AbortSignal,
    program: RpcProgram = REMOTE_RPC_PROGRAM,
  ): { serial: number; reply: Promise<Uint8Array> } {
    const serial = this.#nextSerial();
    const name = program.procedureName(procedure);
    const reply = new Promise<Uint8Array>((resolve, reject) => {
      if (this.#closed) {
        reject(this.#closed);
        return;
      }
      if (signal?.aborted) {
        reject(abortedError(signal, `libvirt ${name}`));
        return;
      }
      const onAbort = () => {
        this.#pending.delete(serial);
        this.#updateFlow();
        reject(abortedError(signal as AbortSignal, `libvirt ${name}`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(serial, {
        name,
        resolve: (p) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(p);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      this.#write(this.#header(program, procedure, MessageType.CALL, serial, MessageStatus.OK), args);
      // A reply is awaited now: read even if downloads lag (see ReadFlow).
      this.#updateFlow();
    });
    return { serial, reply };
  }

  /** Routes the STREAM packets carrying `serial` to `handler` until {@link RpcConnection.endStream}. */
  openStream(serial: number, handler: StreamPacketHandler): void {
    this.#streams.set(serial, handler);
  }

  /** Stops routing a stream's packets. */
  endStream(serial: number): void {
    this.#streams.delete(serial);
    this.#flow.set(serial, undefined);
    this.#updateFlow();
  }

  /**
   * A download's reader lags by `bytes` (its buffer is over its high-water mark), or (`undefined`)
   * has caught up. The socket is paused only as `ReadFlow` decides.
   */
  setStreamBacklog(serial: number, bytes: number | undefined): void {
    if (!this.#streams.has(serial)) bytes = undefined;
    this.#flow.set(serial, bytes);
    this.#updateFlow();
  }

  /** Whether reading from the daemon is paused for lagging downloads. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Sends one STREAM packet; resolves when the socket can take more (backpressure). */
  async sendStream(
    procedure: number,
    serial: number,
    status: MessageStatus,
    data?: Uint8Array,
  ): Promise<void> {
    if (this.#closed) throw this.#closed;
    const header = this.#header(REMOTE_RPC_PROGRAM, procedure, MessageType.STREAM, serial, status);
    const ok = this.#write(header, data);
    if (!ok && !this.#closed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#socket.off('drain', done);
          this.#socket.off('close', done);
          resolve();
        };
        this.#socket.on('drain', done);
        this.#socket.on('close', done);
      });
    }
    if (this.#closed) throw this.#closed;
  }

  /** Closes the connection; pending calls fail with a `PROVIDER` error. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#fail(connectionError('connection closed'), true);
    this.#socket.destroy();
  }

  #nextSerial(): number {
    this.#serial = this.#serial >= 0xffff_fffe ? 1 : this.#serial + 1;
    return this.#serial;
  }

  #header(
    program: RpcProgram,
    procedure: number,
    type: MessageType,
    serial: number,
    status: MessageStatus,
  ): PacketHeader {
    return { program: program.id, version: program.version, procedure, type, serial, status };
  }

  #write(header: PacketHeader, payload?: Uint8Array): boolean {
    return this.#socket.write(encodePacket(header, payload));
  }

  #onData(chunk: Buffer): void {
    this.#keepalive?.heard();
    let packets: Packet[];
    try {
      packets = this.#decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (error) {
      this.#fail(connectionError(`protocol error from libvirtd: ${(error as Error).message}`, error));
      this.#socket.destroy();
      return;
    }
    for (const packet of packets) {
      try {
        this.#dispatch(packet);
      } catch {
        // A callback's failure (an event listener) must not stop the packets after it.
      }
    }
  }

  #updateFlow(): void {
    const pause = !this.#closed && this.#flow.shouldPause(this.#streams.size, this.#pending.size);
    if (pause === this.#paused) return;
    this.#paused = pause;
    if (pause) this.#socket.pause();
    else {
      // Silence while paused was ours, not the daemon's.
      this.#keepalive?.heard();
      this.#socket.resume();
    }
  }

  /** Hands a STREAM packet to its stream; a consumer that throws fails (and aborts) that stream only. */
  #dispatchStream(packet: Packet): void {
    const { serial, procedure } = packet.header;
    const handler = this.#streams.get(serial);
    if (!handler) return;
    try {
      handler(packet);
    } catch (error) {
      this.endStream(serial);
      void this.sendStream(procedure, serial, MessageStatus.ERROR).catch(() => {});
      const reason = error instanceof Error ? error.message : String(error);
      try {
        handler(
          new VmkitError('PROVIDER', `the consumer of a libvirt stream failed: ${reason}`, { cause: error }),
        );
      } catch {
        // Nothing more to tell it.
      }
    }
  }

  #dispatch(packet: Packet): void {
    const h = packet.header;
    if (h.program === KEEPALIVE_PROGRAM) {
      if (h.procedure === KeepaliveProcedure.PING && !this.#closed)
        this.#socket.write(keepalivePacket(KeepaliveProcedure.PONG));
      return;
    }
    if (!CALL_PROGRAMS.has(h.program)) return;
    // Replies are matched by serial, whichever program they answer; events and streams are the remote program's.
    if (h.program !== REMOTE_RPC_PROGRAM.id && h.type !== MessageType.REPLY) return;
    switch (h.type) {
      case MessageType.REPLY:
      case MessageType.REPLY_WITH_FDS: {
        const pending = this.#pending.get(h.serial);
        if (!pending) return;
        this.#pending.delete(h.serial);
        this.#updateFlow();
        if (h.status === MessageStatus.OK) pending.resolve(packet.payload);
        else pending.reject(decodeError(packet.payload, pending.name));
        return;
      }
      case MessageType.MESSAGE:
        this.#options.onEvent?.(h.procedure, packet.payload);
        return;
      case MessageType.STREAM:
      case MessageType.STREAM_HOLE:
        this.#dispatchStream(packet);
        return;
    }
  }

  #fail(error: VmkitError, deliberate = false): void {
    if (this.#closed) return;
    this.#closed = error;
    this.#keepalive?.stop();
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    for (const handler of this.#streams.values()) {
      try {
        handler(error);
      } catch {
        // Each stream hears of the end, whatever another did with it.
      }
    }
    this.#streams.clear();
    this.#flow.clear();
    this.#options.onClose?.(deliberate ? undefined : error);
  }

  /** Why the connection closed, once it has. */
  get closeReason(): VmkitError | undefined {
    return this.#closed;
  }
}
