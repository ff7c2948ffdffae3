import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostPortUnbindable } from '../errors/host-port-error.js';
import { PortAllocator } from '../ports/port-allocator.js';
import type { CloneSpec } from '../spi/clone-spec.js';
import { type MemoryProvider, memoryProvider } from '../testing/memory-provider.js';
import type { ProgressEvent } from '../util/progress.js';
import { type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
const servers: Server[] = [];
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
  for (const server of servers.splice(0)) await new Promise((r) => server.close(r));
});

/** Two consecutive TCP ports, both held on this machine by listeners. */
async function twoHeldPorts(): Promise<number> {
  for (;;) {
    const first = await listen(0);
    const second = await listen(first.port + 1).catch(() => undefined);
    if (second) return first.port;
    await new Promise((r) => first.server.close(r));
    servers.pop();
  }
}

async function listen(port: number): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve());
  });
  servers.push(server);
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : port };
}

/**
 * A memory provider standing for a remote host whose hypervisor cannot bind the host ports in
 * `unbindable` (held there by something vmkit does not know): starting a node on one fails as
 * QEMU's hostfwd error does, through the provider's `hostPortUnbindable`.
 */
function remoteProvider(unbindable: Set<number>): MemoryProvider & { starts: number[] } {
  const inner = memoryProvider({ id: 'memory:remote' });
  const portsOf = new Map<string, number[]>();
  const starts: number[] = [];
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'host') return { id: 'remote-host-uuid', local: false };
      if (prop === 'starts') return starts;
      if (prop === 'cloneNode')
        return async (spec: CloneSpec, opts?: object) => {
          const node = await target.cloneNode(spec, opts);
          portsOf.set(
            node.id,
            spec.network.nics.flatMap((n) => n.portForwards.map((f) => f.hostPort)),
          );
          return node;
        };
      if (prop === 'startNode')
        return async (id: string, opts?: object) => {
          const ports = portsOf.get(id) ?? [];
          starts.push(...ports);
          const bad = ports.find((p) => unbindable.has(p));
          if (bad !== undefined)
            throw hostPortUnbindable({ protocol: 'tcp', port: bad }, `Could not set up host forwarding rule`);
          return target.startNode(id, opts);
        };
      return Reflect.get(target, prop, receiver);
    },
  }) as MemoryProvider & { starts: number[] };
}

describe('port leases for a remote hypervisor host', () => {
  it('leases ports held on this machine without probing it, keyed by the remote host', async () => {
    const low = await twoHeldPorts();
    const p = remoteProvider(new Set());
    const service = await s.service(p, {
      ports: { leaseDir: s.leaseDir, probe: true, range: [low, low + 1] },
    });
    const [node] = await service.createNodesInGroup('far', 1, { inboundPorts: [80] });
    expect([low, low + 1]).toContain(node?.hostPorts['tcp-80']);
    const files = await readdir(s.leaseDir);
    expect(files.filter((f) => f.endsWith('.lease'))).toEqual([
      expect.stringMatching(new RegExp(`^h-[0-9a-f]{16}-tcp-${node?.hostPorts['tcp-80']}\\.lease$`)),
    ]);
  });

  it('retries a node on another port when the host cannot bind the one it was given, leaving nothing behind', async () => {
    const low = await twoHeldPorts();
    const unbindable = new Set([low, low + 1]);
    const p = remoteProvider(unbindable);
    const events: ProgressEvent[] = [];
    const service = await s.service(p, {
      ports: { leaseDir: s.leaseDir, probe: true, range: [low, low + 2] },
    });
    // Every port but low + 2 fails on the host: the node ends on low + 2 after at most two retries.
    unbindable.add(low + 2);
    const failing = service.createNodesInGroup(
      'far',
      1,
      { inboundPorts: [80] },
      { onProgress: (e) => events.push(e) },
    );
    await expect(failing).rejects.toThrow(/could not be bound/);
    expect(new Set(p.starts)).toEqual(new Set([low, low + 1, low + 2]));
    expect(p.starts).toHaveLength(3);
    expect(events.filter((e) => e.message?.includes('trying another'))).toHaveLength(2);
    expect(await p.listNodes()).toEqual([]);
    expect((await readdir(s.leaseDir)).filter((f) => f.endsWith('.lease'))).toEqual([]);

    // Every port it tried is avoided now: the next call is refused before anything is made.
    await expect(service.createNodesInGroup('far', 1, { inboundPorts: [80] })).rejects.toThrow(
      /no free host port/,
    );
    expect(p.starts).toHaveLength(3);
  });

  it('lands on a port the host can bind, never trying a bad one twice', async () => {
    const low = await twoHeldPorts();
    const p = remoteProvider(new Set([low, low + 1]));
    const service = await s.service(p, {
      ports: { leaseDir: s.leaseDir, probe: true, range: [low, low + 2] },
    });
    const [node] = await service.createNodesInGroup('far', 1, { inboundPorts: [80] });
    expect(node?.hostPorts['tcp-80']).toBe(low + 2);
    expect(p.starts.at(-1)).toBe(low + 2);
    expect(new Set(p.starts).size).toBe(p.starts.length);
    expect(await p.listNodes()).toHaveLength(1);
    expect((await readdir(s.leaseDir)).filter((f) => f.endsWith('.lease'))).toHaveLength(1);
  });

  it('does not retry a host port the caller fixed', async () => {
    const low = await twoHeldPorts();
    const p = remoteProvider(new Set([low]));
    const service = await s.service(p, {
      ports: { leaseDir: s.leaseDir, probe: true, range: [low, low + 1] },
    });
    const network = {
      nics: [
        {
          attachment: 'nat' as const,
          portForwards: [{ protocol: 'tcp' as const, guestPort: 80, hostPort: low }],
        },
      ],
    };
    await expect(service.createNodesInGroup('fixed', 1, { network })).rejects.toThrow(/could not be bound/);
    expect(p.starts).toEqual([low]);
    expect(await p.listNodes()).toEqual([]);
  });
});

describe('PortAllocator scopes', () => {
  it('keeps the same port of this machine and of two remote hosts as three leases', async () => {
    const ports = new PortAllocator({ leaseDir: s.leaseDir, probe: false, range: [40000, 40000] });
    const claim = (owner: string, host?: string) => ({ owner, attempt: owner, ...(host ? { host } : {}) });
    expect(await ports.lease(claim('p/local'), 'tcp', '127.0.0.1', 'auto')).toBe(40000);
    expect(await ports.lease(claim('p/a', 'host-a'), 'tcp', '127.0.0.1', 'auto')).toBe(40000);
    expect(await ports.lease(claim('p/b', 'host-b'), 'tcp', '127.0.0.1', 'auto')).toBe(40000);
    await expect(ports.lease(claim('p/a2', 'host-a'), 'tcp', '127.0.0.1', 40000)).rejects.toThrow(
      /in use or leased/,
    );
    expect((await ports.leases()).map((l) => l.host ?? 'local').sort()).toEqual([
      'host-a',
      'host-b',
      'local',
    ]);
    ports.avoid('host-a', 'tcp', 40000);
    await ports.releaseAttempt(claim('p/a', 'host-a'));
    await expect(ports.lease(claim('p/a3', 'host-a'), 'tcp', '127.0.0.1', 'auto')).rejects.toThrow(
      /no free host port/,
    );
  });
});
