import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePacket, FrameDecoder, type Packet } from '../src/rpc/packet.js';
import { MessageStatus, MessageType } from '../src/rpc/protocol.js';

/** A fake libvirtd on a unix socket: every packet it receives goes to `onPacket`. */
export interface FakeDaemon {
  /** The client side of the connection. */
  readonly socket: Socket;
  /** Every packet received so far. */
  readonly received: Packet[];
  /** Stops the server and removes its socket. */
  close(): void;
}

/** Starts a fake daemon and connects to it. */
export async function fakeDaemon(onPacket: (p: Packet, server: Socket) => void): Promise<FakeDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'vmkit-fake-'));
  const path = join(dir, 'sock');
  const received: Packet[] = [];
  const sockets: Socket[] = [];
  const server = createServer((sock) => {
    sockets.push(sock);
    const dec = new FrameDecoder();
    sock.on('error', () => {});
    sock.on('data', (d) => {
      for (const p of dec.push(d)) {
        received.push(p);
        onPacket(p, sock);
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  const socket = await new Promise<Socket>((r) => {
    const s = connect(path, () => r(s));
  });
  return {
    socket,
    received,
    close() {
      socket.destroy();
      for (const s of sockets) s.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An OK reply to `call`. */
export const okReply = (call: Packet, payload: Uint8Array = new Uint8Array(0)): Uint8Array =>
  encodePacket({ ...call.header, type: MessageType.REPLY, status: MessageStatus.OK }, payload);

/** A STREAM/CONTINUE packet of `call`'s stream carrying `payload`. */
export const streamData = (call: Packet, payload: Uint8Array): Uint8Array =>
  encodePacket({ ...call.header, type: MessageType.STREAM, status: MessageStatus.CONTINUE }, payload);
