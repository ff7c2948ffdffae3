import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { okReply } from '../../test-support/fake-daemon.js';
import { FrameDecoder, type Packet } from '../rpc/packet.js';
import { RemoteProcedure as P } from '../rpc/procedures.js';
import { XdrWriter } from '../rpc/xdr/xdr-writer.js';
import { LibvirtClient } from './libvirt-client.js';

/**
 * A scripted libvirtd on a unix socket that can drop its connections, go away and come back:
 * it answers the handshake, `CONNECT_GET_TYPE`, `DOMAIN_DEFINE_XML_FLAGS` and event registrations,
 * and counts every call by procedure.
 */
class ScriptedDaemon {
  readonly path: string;
  readonly #dir: string;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly calls: number[] = [];
  /** A procedure whose next call drops the connection instead of being answered. */
  dropOn: number | undefined;

  constructor() {
    this.#dir = mkdtempSync(join(tmpdir(), 'vmkit-scripted-'));
    this.path = join(this.#dir, 'sock');
  }

  count(procedure: number): number {
    return this.calls.filter((p) => p === procedure).length;
  }

  async up(): Promise<void> {
    const server = createServer((sock) => {
      this.#sockets.add(sock);
      sock.on('close', () => this.#sockets.delete(sock));
      sock.on('error', () => {});
      const decoder = new FrameDecoder();
      sock.on('data', (d) => {
        for (const p of decoder.push(d)) this.#answer(p, sock);
      });
    });
    await new Promise<void>((r) => server.listen(this.path, r));
    this.#server = server;
  }

  /** Drops every connection and stops listening (the socket file goes). */
  async down(): Promise<void> {
    this.dropAll();
    const server = this.#server;
    this.#server = undefined;
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  }

  dropAll(): void {
    for (const s of this.#sockets) s.destroy();
  }

  dispose(): void {
    this.dropAll();
    this.#server?.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #answer(p: Packet, sock: Socket): void {
    const proc = p.header.procedure;
    this.calls.push(proc);
    if (this.dropOn === proc) {
      this.dropOn = undefined;
      sock.destroy();
      return;
    }
    const w = new XdrWriter();
    if (proc === P.AUTH_LIST) w.uint(0);
    else if (proc === P.CONNECT_SUPPORTS_FEATURE) w.int(1);
    else if (proc === P.CONNECT_GET_TYPE) w.string('QEMU', 64);
    else if (proc === P.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY) w.int(7);
    else if (proc === P.DOMAIN_DEFINE_XML_FLAGS)
      w.string('d', 64).opaqueFixed(new Uint8Array(16), 16).int(-1);
    sock.write(okReply(p, w.bytes()));
  }
}

const daemons: ScriptedDaemon[] = [];
const clients: LibvirtClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const d of daemons.splice(0)) d.dispose();
});

async function setUp(): Promise<{ daemon: ScriptedDaemon; client: LibvirtClient }> {
  const daemon = new ScriptedDaemon();
  daemons.push(daemon);
  await daemon.up();
  const client = await LibvirtClient.connect({
    uri: `qemu+unix:///system?socket=${daemon.path}`,
    reconnect: { initialDelayMs: 20, maxDelayMs: 50, totalMs: 5000 },
  });
  clients.push(client);
  return { daemon, client };
}

/** Resolves once `check` holds, looking every few ms (for states the daemon reaches on its own). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe('LibvirtClient when the connection is lost', () => {
  it('sends a read in flight again on the next connection', async () => {
    const { daemon, client } = await setUp();
    daemon.dropOn = P.CONNECT_GET_TYPE;
    expect(await client.getType()).toBe('QEMU');
    expect(daemon.count(P.CONNECT_GET_TYPE)).toBe(2);
    expect(client.reconnects).toBe(1);
  });

  it('does not send a creation again: it fails retryable and marked interrupted', async () => {
    const { daemon, client } = await setUp();
    daemon.dropOn = P.DOMAIN_DEFINE_XML_FLAGS;
    const error = await client.domains.defineXml('<domain/>').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'PROVIDER',
      retryable: true,
      details: { interrupted: true, procedure: 'DOMAIN_DEFINE_XML_FLAGS' },
      message: expect.stringMatching(/may or may not have taken effect/),
    });
    expect(daemon.count(P.DOMAIN_DEFINE_XML_FLAGS)).toBe(1);
  });

  it('fails an upload whose connection is lost as interrupted, naming the procedure, and sends it once', async () => {
    const { daemon, client } = await setUp();
    daemon.dropOn = P.STORAGE_VOL_UPLOAD;
    const vol = { pool: 'p', name: 'v', key: '/p/v' };
    const error = await client.storage.volUpload(vol, new Uint8Array(1024)).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'PROVIDER',
      retryable: true,
      details: { interrupted: true, procedure: 'STORAGE_VOL_UPLOAD' },
      message: expect.stringMatching(
        /^libvirt STORAGE_VOL_UPLOAD was interrupted: .*may or may not have taken effect/,
      ),
    });
    expect(daemon.count(P.STORAGE_VOL_UPLOAD)).toBe(1);
    // The next call goes out on a new connection.
    expect(await client.getType()).toBe('QEMU');
    expect(client.reconnects).toBe(1);
  });

  it('reconnects on its own and registers its event callback again, with no call made', async () => {
    const { daemon, client } = await setUp();
    await client.onDomainLifecycle(() => {});
    expect(daemon.count(P.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY)).toBe(1);
    daemon.dropAll();
    await until(() => daemon.count(P.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY) === 2);
    expect(daemon.count(P.CONNECT_OPEN)).toBe(2);
    expect(client.reconnects).toBe(1);
  });

  it('makes calls wait while the daemon is away, with backoff, and answers them once it is back', async () => {
    const { daemon, client } = await setUp();
    await daemon.down();
    const pending = client.getType();
    const opensBefore = daemon.count(P.CONNECT_OPEN);
    await new Promise((r) => setTimeout(r, 150));
    await daemon.up();
    expect(await pending).toBe('QEMU');
    expect(daemon.count(P.CONNECT_OPEN)).toBe(opensBefore + 1);
  });

  it("ends a caller's wait for the reconnect when its signal fires", async () => {
    const { daemon, client } = await setUp();
    await daemon.down();
    await until(() => !client.connected);
    const caller = new AbortController();
    const pending = client.call(P.CONNECT_GET_TYPE, undefined, caller.signal).catch((e: unknown) => e);
    // Still waiting for the daemon a while later (not failed at once), until the caller gives up.
    const early = await Promise.race([pending, new Promise((r) => setTimeout(() => r('waiting'), 100))]);
    expect(early).toBe('waiting');
    caller.abort();
    expect(await pending).toMatchObject({ code: 'ABORTED' });
  });
});
