import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService, type ProgressEvent } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForGuestPage } from '../../test-support/http.js';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { libvirtProvider } from './libvirt-provider.js';

const POOL = 'vmkit';
const prefix = runPrefix('r');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-remote-'));
const leaseDir = join(dir, 'leases');

/**
 * libvirtd's TCP listener, as `listen_tcp = 1` / `auth_tcp = "none"` would give it, without
 * restarting the daemon other engineers share: a loopback TCP port relaying each connection to
 * the system daemon's socket. The client speaks libvirt's remote protocol over TCP to it, exactly
 * as to a remote host's libvirtd.
 */
function tcpListener(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    const daemon = createConnection('/run/libvirt/libvirt-sock');
    socket.pipe(daemon).pipe(socket);
    socket.on('error', () => daemon.destroy());
    daemon.on('error', () => socket.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as { port: number }).port }),
    ),
  );
}

/** A TCP port of this machine held by a listener, with the next one free. */
async function heldPort(): Promise<{ server: Server; port: number }> {
  for (;;) {
    const held = createServer();
    const port = await new Promise<number>((resolve) =>
      held.listen(0, '127.0.0.1', () => resolve((held.address() as { port: number }).port)),
    );
    const probe = createServer();
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(port + 1, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free && port < 65535) return { server: held, port };
    held.close();
  }
}

describe('a remote libvirt host (qemu+tcp): ports are leased per host and retried when QEMU cannot bind', () => {
  let relay: { server: Server; port: number };
  let held: { server: Server; port: number };
  beforeAll(async () => {
    relay = await tcpListener();
    held = await heldPort();
  });
  afterAll(async () => {
    await sweep('qemu:///system', prefix, POOL);
    relay.server.close();
    held.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands out a port busy on this machine (no local probe), retries on QEMU bind failure, and the node answers', async () => {
    const uri = `qemu+tcp://127.0.0.1:${relay.port}/system`;
    const P = held.port;
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri, pool: POOL, namePrefix: prefix }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [testGuestMasterSpec('remote-guest')],
      ports: { leaseDir, range: [P, P + 1] },
    });
    await compute.ensureImage('remote-guest');
    // Each attempt picks a port of the range at random: P (held here, so QEMU on the "remote"
    // host cannot bind it) or P + 1. Until P came first, the node is thrown away and made again.
    let retried: ProgressEvent | undefined;
    let node: Awaited<ReturnType<typeof compute.createNodesInGroup>>[number] | undefined;
    for (let round = 0; round < 20 && !retried; round++) {
      if (node) await compute.destroyNode(node.id);
      const events: ProgressEvent[] = [];
      [node] = await compute.createNodesInGroup(
        'rp',
        1,
        { inboundPorts: [80], userData: 'remote-ports' },
        { onProgress: (e) => events.push(e) },
      );
      retried = events.find((e) => e.message?.includes(`tcp/${P} could not be bound`));
    }
    expect(retried).toBeDefined();
    expect(node?.hostPorts['tcp-80']).toBe(P + 1);
    // The lease names the remote host, not this machine's port namespace.
    const leases = readdirSync(leaseDir).filter((f) => f.endsWith('.lease'));
    expect(leases).toEqual([expect.stringMatching(new RegExp(`^h-[0-9a-f]{16}-tcp-${P + 1}\\.lease$`))]);
    // Only the retried node's domain exists: the failed attempt left no domain behind.
    const domains = (await leftovers('qemu:///system', prefix, POOL)).domains.filter((d) =>
      d.includes('rp-'),
    );
    expect(domains).toEqual([node?.id]);
    const { page } = await waitForGuestPage(`http://127.0.0.1:${P + 1}/`, 180_000);
    expect(page.userData).toBe('remote-ports');
    await compute.destroyNode(node!.id);
    expect(readdirSync(leaseDir).filter((f) => f.endsWith('.lease'))).toEqual([]);
    const left = await leftovers('qemu:///system', prefix, POOL);
    expect(left.domains).toEqual([]);
    expect(left.volumes.filter((v) => v.includes('rp-'))).toEqual([]);
  }, 420_000);
});
