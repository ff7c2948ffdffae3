import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeDaemon, fakeDaemon, okReply, streamData } from '../../test-support/fake-daemon.js';
import { downloadCall } from './data-stream.js';
import { encodePacket, type Packet } from './packet.js';
import { MessageStatus, MessageType, REMOTE_PROGRAM } from './protocol.js';
import { RpcConnection } from './rpc-connection.js';

const DOWNLOAD = 209;
const VERSION = 157;
const chunk = new Uint8Array(256 * 1024).fill(7);

let daemons: FakeDaemon[] = [];
afterEach(() => {
  for (const d of daemons) d.close();
  daemons = [];
});

async function daemon(onPacket: (p: Packet, sock: Socket) => void) {
  const d = await fakeDaemon(onPacket);
  daemons.push(d);
  return d;
}

/** Replies to calls of `VERSION` at once; answers a download call with `chunks` chunks of data. */
function serve(chunks: number, hold?: Promise<void>) {
  return (p: Packet, sock: Socket) => {
    if (p.header.type !== MessageType.CALL) return;
    if (p.header.procedure === VERSION) {
      sock.write(okReply(p, new Uint8Array(8)));
      return;
    }
    if (p.header.procedure !== DOWNLOAD) return;
    const go = () => {
      sock.write(okReply(p));
      for (let i = 0; i < chunks; i++) sock.write(streamData(p, chunk));
    };
    if (hold) void hold.then(go);
    else go();
  };
}

const streamPackets = (d: FakeDaemon, status: number) =>
  d.received.filter((p) => p.header.type === MessageType.STREAM && p.header.status === status);

describe('downloads sharing a connection', () => {
  it('an unread download does not hold up a call on the same connection', async () => {
    const d = await daemon(serve(64));
    const conn = new RpcConnection(d.socket, { keepaliveIntervalMs: 0 });
    const stream = await downloadCall(conn, DOWNLOAD, new Uint8Array(0));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await conn.call(VERSION);
    expect(Date.now() - t0).toBeLessThan(1000);
    let total = 0;
    stream.on('data', (c: Buffer) => (total += c.length));
    await new Promise((r) => setTimeout(r, 300));
    expect(total).toBe(64 * chunk.length);
    stream.destroy();
    conn.close();
  });

  it('past the backlog bound it stops reading, and keepalive does not count that silence', async () => {
    const d = await daemon(serve(32));
    // Keepalive would declare the daemon dead after 300 ms of silence; the connection stays paused
    // (silent) for longer than that below, so counting that silence would close it. The margins
    // leave room for a loaded machine's event-loop delays.
    const conn = new RpcConnection(d.socket, {
      keepaliveIntervalMs: 100,
      keepaliveCount: 3,
      streamBacklogMaxBytes: 2 * 1024 * 1024,
    });
    const stream = await downloadCall(conn, DOWNLOAD, new Uint8Array(0));
    // A call kept waiting keeps the socket read until the download's backlog passes the bound.
    const never = conn.call(999).catch(() => {});
    await new Promise((r) => setTimeout(r, 700));
    expect(conn.paused).toBe(true);
    expect(conn.closed).toBe(false);
    expect(stream.readableLength).toBeLessThan(8 * 1024 * 1024);
    let total = 0;
    for await (const c of stream) {
      total += (c as Buffer).length;
      if (total === 32 * chunk.length) break;
    }
    expect(total).toBe(32 * chunk.length);
    expect(conn.paused).toBe(false);
    conn.close();
    await never;
  });

  it('a throwing onBytes fails that download only; calls go on and the daemon is told to abort', async () => {
    const d = await daemon(serve(4));
    const conn = new RpcConnection(d.socket, { keepaliveIntervalMs: 0 });
    const stream = await downloadCall(conn, DOWNLOAD, new Uint8Array(0), {
      onBytes: () => {
        throw new Error('callback bug');
      },
    });
    const failed = new Promise<Error>((r) => stream.on('error', r));
    expect((await failed).message).toMatch(/callback bug/);
    await conn.call(VERSION);
    await new Promise((r) => setTimeout(r, 50));
    expect(streamPackets(d, MessageStatus.ERROR)).toHaveLength(1);
    conn.close();
  });

  it('a throwing event listener does not stop the packets after it', async () => {
    const d = await daemon((p, sock) => {
      const event = encodePacket({
        ...p.header,
        program: REMOTE_PROGRAM,
        type: MessageType.MESSAGE,
        serial: 0,
      });
      sock.write(Buffer.concat([event, okReply(p)]));
    });
    const conn = new RpcConnection(d.socket, {
      keepaliveIntervalMs: 0,
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    await expect(conn.call(VERSION)).resolves.toBeInstanceOf(Uint8Array);
    conn.close();
  });

  it('aborting after the call was sent tells the daemon, even when its reply comes later', async () => {
    let release = () => {};
    const hold = new Promise<void>((r) => (release = r));
    const d = await daemon(serve(2, hold));
    const conn = new RpcConnection(d.socket, { keepaliveIntervalMs: 0 });
    const ac = new AbortController();
    const download = downloadCall(conn, DOWNLOAD, new Uint8Array(0), { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await expect(download).rejects.toMatchObject({ code: 'ABORTED' });
    await new Promise((r) => setTimeout(r, 50));
    // An abort sent before the daemon set the stream up is dropped by libvirtd: one must follow the reply.
    const early = streamPackets(d, MessageStatus.ERROR).length;
    release();
    await new Promise((r) => setTimeout(r, 100));
    const call = d.received.find(
      (p) => p.header.procedure === DOWNLOAD && p.header.type === MessageType.CALL,
    );
    const aborts = streamPackets(d, MessageStatus.ERROR);
    expect(aborts.length).toBeGreaterThan(early);
    expect(aborts.every((p) => p.header.serial === call?.header.serial)).toBe(true);
    expect(await conn.call(VERSION)).toBeInstanceOf(Uint8Array);
    conn.close();
  });
});
