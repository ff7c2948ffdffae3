import {
  HEADER_SIZE,
  LENGTH_WORD_SIZE,
  MESSAGE_MAX,
  type MessageStatus,
  type MessageType,
} from './protocol.js';
import { XdrError } from './xdr/xdr-error.js';

/** The fixed header of every packet. */
export interface PacketHeader {
  /** Program number (remote or keepalive). */
  readonly program: number;
  /** Program version. */
  readonly version: number;
  /** Procedure number within the program. */
  readonly procedure: number;
  /** What the packet is. */
  readonly type: MessageType;
  /** Serial of the call it belongs to (0 for events). */
  readonly serial: number;
  /** OK, ERROR or CONTINUE. */
  readonly status: MessageStatus;
}

/** A decoded packet: header and raw payload. */
export interface Packet {
  readonly header: PacketHeader;
  readonly payload: Uint8Array;
}

/** Encodes one packet: length word, header, payload. */
export function encodePacket(header: PacketHeader, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const total = LENGTH_WORD_SIZE + HEADER_SIZE + payload.length;
  if (total - LENGTH_WORD_SIZE > MESSAGE_MAX) {
    throw new XdrError(`packet of ${total} bytes exceeds the limit of ${MESSAGE_MAX}`, 0);
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, total);
  view.setUint32(4, header.program);
  view.setUint32(8, header.version);
  view.setInt32(12, header.procedure);
  view.setInt32(16, header.type);
  view.setUint32(20, header.serial);
  view.setInt32(24, header.status);
  out.set(payload, LENGTH_WORD_SIZE + HEADER_SIZE);
  return out;
}

/** Decodes one whole packet (length word included). */
export function decodePacket(frame: Uint8Array): Packet {
  if (frame.length < LENGTH_WORD_SIZE + HEADER_SIZE) {
    throw new XdrError(`packet of ${frame.length} bytes is shorter than a header`, 0);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const length = view.getUint32(0);
  if (length !== frame.length) throw new XdrError(`packet length word ${length} != ${frame.length} bytes`, 0);
  return {
    header: {
      program: view.getUint32(4),
      version: view.getUint32(8),
      procedure: view.getInt32(12),
      type: view.getInt32(16) as MessageType,
      serial: view.getUint32(20),
      status: view.getInt32(24) as MessageStatus,
    },
    payload: frame.subarray(LENGTH_WORD_SIZE + HEADER_SIZE),
  };
}

/**
 * Splits a byte stream into packets. The length word is checked (at least a header, at most
 * {@link MESSAGE_MAX}) as soon as its 4 bytes arrive, before the packet's bytes are buffered.
 */
export class FrameDecoder {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #expected = -1;

  /** Bytes held waiting for the rest of a packet. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Adds received bytes; returns the packets they complete. Throws {@link XdrError} on a bad length. */
  push(chunk: Uint8Array): Packet[] {
    const packets: Packet[] = [];
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    for (;;) {
      if (this.#expected < 0) {
        if (this.#buffered < LENGTH_WORD_SIZE) break;
        const head = this.#peek(LENGTH_WORD_SIZE);
        const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
        if (length < LENGTH_WORD_SIZE + HEADER_SIZE) {
          throw new XdrError(`packet length ${length} is shorter than a header`, 0);
        }
        if (length - LENGTH_WORD_SIZE > MESSAGE_MAX) {
          throw new XdrError(`packet length ${length} exceeds the limit of ${MESSAGE_MAX}`, 0);
        }
        this.#expected = length;
      }
      if (this.#buffered < this.#expected) break;
      const frame = this.#take(this.#expected);
      this.#expected = -1;
      packets.push(decodePacket(frame));
    }
    return packets;
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0] as Uint8Array;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.#chunks) {
      const part = c.subarray(0, n - at);
      out.set(part, at);
      at += part.length;
      if (at === n) break;
    }
    return out;
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0] as Uint8Array;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = new Uint8Array(n);
      let at = 0;
      while (at < n) {
        const c = this.#chunks[0] as Uint8Array;
        const need = n - at;
        if (c.length <= need) {
          out.set(c, at);
          at += c.length;
          this.#chunks.shift();
        } else {
          out.set(c.subarray(0, need), at);
          this.#chunks[0] = c.subarray(need);
          at = n;
        }
      }
    }
    this.#buffered -= n;
    return out;
  }
}
