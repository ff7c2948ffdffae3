import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LibvirtError } from '../errors/libvirt-error.js';
import { encodePacket, FrameDecoder, type Packet } from './packet.js';
import { KEEPALIVE_PROGRAM, MessageStatus, MessageType, QEMU_PROGRAM, REMOTE_PROGRAM } from './protocol.js';
import { RpcConnection } from './rpc-connection.js';
import { QEMU_RPC_PROGRAM } from './rpc-program.js';
import { XdrWriter } from './xdr/xdr-writer.js';

/** A fake daemon on a unix socket: hands each received packet to `onPacket`. */
async function fakeDaemon(onPacket: (p: Packet, reply: (bytes: Uint8Array) => void, sock: Socket) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'vmkit-rpc-'));
  const path = join(dir, 'sock');
  const server: Server = createServer((sock) => {
    const dec = new FrameDecoder();
    sock.on('data', (d) => {
      for (const p of dec.push(d)) onPacket(p, (b) => sock.write(b), sock);
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  const socket = await new Promise<Socket>((r) => {
    const s = connect(path, () => r(s));
  });
  cleanups.push(() => {
    socket.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return socket;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const reply = (p: Packet, status: number, payload: Uint8Array = new Uint8Array(0)) =>
  encodePacket({ ...p.header, type: MessageType.REPLY, status: status as 0 }, payload);

describe('RpcConnection', () => {
  it('matches replies to calls by serial when they come back out of order', async () => {
    const held: Packet[] = [];
    const socket = await fakeDaemon((p, send) => {
      held.push(p);
      if (held.length === 3) {
        for (const q of [...held].reverse())
          send(reply(q, 0, new XdrWriter().uint(q.header.serial * 10).bytes()));
      }
    });
    const conn = new RpcConnection(socket, { keepaliveIntervalMs: 0 });
    const results = await Promise.all([conn.call(4), conn.call(4), conn.call(4)]);
    expect(results.map((r) => Buffer.from(r).readUInt32BE(0))).toEqual([10, 20, 30]);
    expect(held.map((p) => p.header.serial)).toEqual([1, 2, 3]);
    conn.close();
  });

  it('sends calls of the QEMU program under its own program number and matches its replies and errors by serial', async () => {
    const seen: Array<[number, number, number]> = [];
    const socket = await fakeDaemon((p, send) => {
      seen.push([p.header.program, p.header.version, p.header.procedure]);
      if (p.header.program === QEMU_PROGRAM && p.header.serial === 2) {
        const err = new XdrWriter()
          .int(86)
          .int(10)
          .optional('agent gone', (w, v) => w.string(v, 1024))
          .int(2);
        err
          .optional(undefined, () => {})
          .optional(undefined, () => {})
          .optional(undefined, () => {});
        err
          .optional(undefined, () => {})
          .int(0)
          .int(0)
          .optional(undefined, () => {});
        send(reply(p, MessageStatus.ERROR, err.bytes()));
      } else send(reply(p, 0, new XdrWriter().uint(p.header.program === QEMU_PROGRAM ? 7 : 1).bytes()));
    });
    const conn = new RpcConnection(socket, { keepaliveIntervalMs: 0 });
    const qemu = await conn.call(3, undefined, undefined, QEMU_RPC_PROGRAM);
    expect(Buffer.from(qemu).readUInt32BE(0)).toBe(7);
    const error = await conn.call(3, undefined, undefined, QEMU_RPC_PROGRAM).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtError);
    expect((error as LibvirtError).libvirtCode).toBe(86);
    expect((error as LibvirtError).message).toContain('QEMU_DOMAIN_AGENT_COMMAND');
    expect(Buffer.from(await conn.call(3)).readUInt32BE(0)).toBe(1);
    expect(seen).toEqual([
      [QEMU_PROGRAM, 1, 3],
      [QEMU_PROGRAM, 1, 3],
      [REMOTE_PROGRAM, 1, 3],
    ]);
    conn.close();
  });

  it('turns an ERROR reply into a LibvirtError with libvirt code, domain and message', async () => {
    const socket = await fakeDaemon((p, send) => {
      const err = new XdrWriter()
        .int(42)
        .int(10)
        .optional('Domain not found', (w, v) => w.string(v))
        .int(2)
        .bool(false)
        .bool(false)
        .bool(false)
        .bool(false)
        .int(0)
        .int(0)
        .bool(false);
      send(reply(p, MessageStatus.ERROR, err.bytes()));
    });
    const conn = new RpcConnection(socket, { keepaliveIntervalMs: 0 });
    const error = await conn.call(23).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtError);
    expect(error).toMatchObject({
      code: 'NOT_FOUND',
      libvirtCode: 42,
      libvirtDomain: 10,
      libvirtMessage: 'Domain not found',
    });
    expect((error as Error).message).toContain('DOMAIN_LOOKUP_BY_NAME');
    conn.close();
  });

  it('answers keepalive PINGs with PONGs and pings a silent daemon', async () => {
    const seen: Packet[] = [];
    const socket = await fakeDaemon((p) => seen.push(p));
    const conn = new RpcConnection(socket, { keepaliveIntervalMs: 50, keepaliveCount: 100 });
    socket.emit(
      'data',
      Buffer.from(
        encodePacket({
          program: KEEPALIVE_PROGRAM,
          version: 1,
          procedure: 1,
          type: MessageType.MESSAGE,
          serial: 0,
          status: 0,
        }),
      ),
    );
    const keepalives = () =>
      seen.filter((p) => p.header.program === KEEPALIVE_PROGRAM).map((p) => p.header.procedure);
    // A PONG (2) for the daemon's PING, and a PING (1) of its own: waited for as they come.
    await vi.waitFor(() => expect(keepalives()).toEqual(expect.arrayContaining([1, 2])), {
      timeout: 10_000,
      interval: 5,
    });
    conn.close();
  });

  it('fails calls in flight with a PROVIDER error when the daemon goes away, and later calls too', async () => {
    const socket = await fakeDaemon((_p, _send, sock) => sock.destroy());
    let closedWith: unknown;
    const conn = new RpcConnection(socket, { keepaliveIntervalMs: 0, onClose: (e) => (closedWith = e) });
    await expect(conn.call(4)).rejects.toMatchObject({
      code: 'PROVIDER',
      message: expect.stringMatching(/libvirtd/),
    });
    expect(conn.closed).toBe(true);
    expect(closedWith).toMatchObject({ code: 'PROVIDER' });
    await expect(conn.call(4)).rejects.toMatchObject({ code: 'PROVIDER' });
  });

  it('drops the connection on a packet with a hostile length', async () => {
    const socket = await fakeDaemon((_p, send) => send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])));
    const conn = new RpcConnection(socket, { keepaliveIntervalMs: 0 });
    await expect(conn.call(4)).rejects.toThrow(/protocol error from libvirtd.*exceeds the limit/);
  });

  it('delivers events to onEvent and stops waiting when a call is aborted', async () => {
    const events: number[] = [];
    const socket = await fakeDaemon((p, send) => {
      send(
        encodePacket({
          program: REMOTE_PROGRAM,
          version: 1,
          procedure: 318,
          type: MessageType.MESSAGE,
          serial: 0,
          status: 0,
        }),
      );
      void p;
    });
    const conn = new RpcConnection(socket, { keepaliveIntervalMs: 0, onEvent: (proc) => events.push(proc) });
    const ac = new AbortController();
    const call = conn.call(4, undefined, ac.signal);
    await vi.waitFor(() => expect(events).toEqual([318]), { timeout: 10_000, interval: 5 }); // the call was seen
    ac.abort();
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    expect(events).toEqual([318]);
    conn.close();
  });
});
