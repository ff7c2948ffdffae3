import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type FakeDaemon, fakeDaemon, okReply, streamData } from '../../test-support/fake-daemon.js';
import { downloadCall } from './data-stream.js';
import { encodePacket, type Packet } from './packet.js';
import { MessageStatus, MessageType, REMOTE_PROGRAM } from './protocol.js';
import { RpcConnection } from './rpc-connection.js';

const DOWNLOAD = 209;
const VERSION = 157;
const chunk = new Uint8Array(256 * 1024).fill(7);
/** Generous waits for what the fake daemon sends: they end as soon as it is seen. */
const SEEN = { timeout: 10_000, interval: 5 };

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
    // The download fills its stream's buffer, unread (observed), when the call is made.
    await vi.waitFor(
      () => expect(stream.readableLength).toBeGreaterThanOrEqual(stream.readableHighWaterMark),
      SEEN,
    );
    // Held up, the call would wait for ever (until the download is read): a generous bound.
    const answered = conn.call(VERSION).then(() => 'answered');
    const late = new Promise((r) => setTimeout(() => r('held up'), 10_000).unref());
    expect(await Promise.race([answered, late])).toBe('answered');
    let total = 0;
    stream.on('data', (c: Buffer) => (total += c.length));
    await vi.waitFor(() => expect(total).toBe(64 * chunk.length), SEEN);
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
    await vi.waitFor(() => expect(conn.paused).toBe(true), SEEN);
    // Then silent for more than twice keepalive's limit: the time is the claim here.
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
    await vi.waitFor(() => expect(streamPackets(d, MessageStatus.ERROR)).toHaveLength(1), SEEN);
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
    const sent = () =>
      d.received.find((p) => p.header.procedure === DOWNLOAD && p.header.type === MessageType.CALL);
    await vi.waitFor(() => expect(sent()).toBeDefined(), SEEN); // the daemon has the call
    ac.abort();
    await expect(download).rejects.toMatchObject({ code: 'ABORTED' });
    // The abort sent at once has reached the daemon before the reply is released.
    await vi.waitFor(() => expect(streamPackets(d, MessageStatus.ERROR).length).toBeGreaterThan(0), SEEN);
    // An abort sent before the daemon set the stream up is dropped by libvirtd: one must follow the reply.
    const early = streamPackets(d, MessageStatus.ERROR).length;
    release();
    await vi.waitFor(() => expect(streamPackets(d, MessageStatus.ERROR).length).toBeGreaterThan(early), SEEN);
    const call = sent();
    const aborts = streamPackets(d, MessageStatus.ERROR);
    expect(aborts.every((p) => p.header.serial === call?.header.serial)).toBe(true);
    expect(await conn.call(VERSION)).toBeInstanceOf(Uint8Array);
    conn.close();
  });
});
