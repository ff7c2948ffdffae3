import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type NodeMetadata, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { PortAllocator } from '@vmkit/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_AGENT_USER_DATA, debianDiskSpec, debianGuest } from '../../test-support/debian-guest.js';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';

// Static addresses on real guests: two Debian 12 nodes (cloud-init 22.4.2, ifupdown) on a libvirt
// network this test defines WITHOUT DHCP get their addresses from a two-address pool through the
// NoCloud drive's network-config, IPv4 and IPv6, as `ip -j addr` inside shows; they reach each
// other (`ping` over both); a third node is refused before anything is made. The master is the imported disk alone (OS family
// `linux`: no install-agent boot); each node installs qemu-guest-agent from the image's apt cache
// at first boot, so the guest's view is read through the agent.

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('sip');
const subnet = `172.30.${10 + Math.floor(Math.random() * 200)}`;
const netName = `${prefix}static`;
const bridge = `vksip${Date.now().toString(36).slice(-6)}`;
const POOL_RANGE = `${subnet}.20-${subnet}.21/24`;
/** A unique-local /64 of the run's own. */
/** A random hex group of 4 digits with no leading zero, as `ip` prints it (it drops leading zeros). */
const group6 = () => (0x1000 + (randomBytes(2).readUInt16BE() % 0xf000)).toString(16);
const subnet6 = `fd${(0x10 + ((randomBytes(1)[0] as number) % 0xf0)).toString(16)}:${group6()}:${group6()}:1`;
const POOL6_RANGE = `${subnet6}::20-${subnet6}::21/64`;
/** Two 1-vCPU Debian guests booting at once under TCG on a shared two-core host. */
const BOOT_TIMEOUT_MS = 360_000;

const template = {
  network: {
    nics: [
      {
        attachment: 'hostOnly' as const,
        network: netName,
        ipv4: { pool: POOL_RANGE, gateway: `${subnet}.1` },
        ipv6: { pool: POOL6_RANGE },
      },
    ],
  },
  userData: DEBIAN_AGENT_USER_DATA,
  hardware: { ramMiB: 512, cores: 1 },
};

describe('static addresses from a pool on real Debian guests (qemu:///system, a network without DHCP)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmkit-static-ip-'));
  const leaseDir = join(dir, 'leases');
  let client: LibvirtClient;
  let compute: ComputeService;
  let nodes: NodeMetadata[] = [];

  beforeAll(async () => {
    client = await LibvirtClient.connect(URI);
    const net = await client.networks.defineXml(
      `<network><name>${netName}</name><bridge name='${bridge}'/>` +
        `<ip address='${subnet}.1' netmask='255.255.255.0'/></network>`,
    );
    await client.networks.create(net);
    const guest = debianGuest();
    compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [debianDiskSpec('debian12-static', guest, 512)],
      ports: { leaseDir },
    });
  }, 300_000);

  afterAll(async () => {
    await compute?.close();
    await sweep(URI, prefix, POOL);
    const net = await client?.networks.lookupByName(netName).catch(() => undefined);
    if (net) {
      await client.networks.destroy(net).catch(() => {});
      await client.networks.undefine(net).catch(() => {});
    }
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'two nodes get the IPv4 and IPv6 pool addresses (ip -j addr inside, then NodeMetadata from the agent) and ping each other over both',
    async () => {
      nodes = await compute.createNodesInGroup('sip', 2, template);
      expect(nodes).toHaveLength(2);
      // Nothing is reported that the guest does not have yet: just started, it has no address.
      for (const n of nodes) expect(n.privateAddresses).not.toContain(`${subnet}.20`);
      const started = Date.now();
      const seen = await Promise.all(
        nodes.map(async (node) => {
          await compute.waitForNode(node.id, { until: 'agent', timeoutMs: BOOT_TIMEOUT_MS });
          // The agent can answer before cloud-init has applied the network config: read until
          // both families are there (bounded), then compare.
          const read = async () => {
            const out = await compute.runScriptOnNode(node.id, 'ip -j addr', { transport: 'agent' });
            const links = JSON.parse(out.stdout) as Array<{
              address?: string;
              addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
            }>;
            const mac = node.network.nics[0]?.mac;
            const nic = links.find((l) => l.address === mac)?.addr_info ?? [];
            const of = (family: string) =>
              nic
                .filter((a) => a.family === family && a.scope === 'global')
                .map((a) => `${a.local}/${a.prefixlen}`);
            return { node, v4: of('inet'), v6: of('inet6') };
          };
          let found = await read();
          for (const deadline = Date.now() + 120_000; Date.now() < deadline; found = await read()) {
            if (found.v4.length > 0 && found.v6.length > 0) break;
            await new Promise((r) => setTimeout(r, 1000));
          }
          return found;
        }),
      );
      console.info(`[static-ip] two Debian nodes booted to their agents in ${Date.now() - started} ms`);
      expect(seen.map((s) => s.v4).sort()).toEqual([[`${subnet}.20/24`], [`${subnet}.21/24`]]);
      expect(seen.map((s) => s.v6).sort()).toEqual([[`${subnet6}::20/64`], [`${subnet6}::21/64`]]);
      // Each pings the other on the network (no DHCP on it: only the static addresses exist), over
      // IPv4 and IPv6 (`-w`: one reply within the deadline; an IPv6 address answers once its
      // duplicate address detection is over).
      for (const [from, to] of [
        [seen[0], seen[1]],
        [seen[1], seen[0]],
      ]) {
        for (const address of [to?.v4[0], to?.v6[0]]) {
          const target = address?.split('/')[0] as string;
          const reach = await compute.runScriptOnNode(from?.node.id as string, `ping -c1 -w 30 ${target}`, {
            transport: 'agent',
          });
          expect([reach.exitCode, reach.stdout], reach.stderr).toMatchObject([
            0,
            expect.stringContaining('1 received'),
          ]);
        }
      }
      // NodeMetadata now reports what the agent reads in the guest.
      for (const s of seen) {
        const now = await compute.getNode(s.node.id);
        expect(now?.nicAddresses?.[0]).toMatchObject({ slot: 0, source: 'agent' });
        expect(now?.nicAddresses?.[0]?.addresses).toContain(s.v4[0]?.split('/')[0]);
      }
      const leases = await new PortAllocator({ leaseDir }).addressLeases();
      expect(leases.map((l) => [l.address, l.state]).sort()).toEqual([
        [`${subnet}.20`, 'bound'],
        [`${subnet}.21`, 'bound'],
        [`${subnet6}::20`, 'bound'],
        [`${subnet6}::21`, 'bound'],
      ]);
    },
    BOOT_TIMEOUT_MS + 120_000,
  );

  it('a third node is refused before anything is made; destroying the nodes releases their addresses', async () => {
    if (nodes.length !== 2) throw new Error('two nodes expected (see the test above)');
    const before = await leftovers(URI, prefix, POOL);
    const error = await compute.createNodesInGroup('sip', 1, template).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as VmkitError).details.field).toBe('network.nics[0].ipv4.pool');
    expect((error as VmkitError).message).toMatch(/exhausted: 0 of its 2 addresses are free/);
    expect(await leftovers(URI, prefix, POOL)).toEqual(before);
    await compute.destroyNode(nodes[0]?.id as string);
    expect((await new PortAllocator({ leaseDir }).addressLeases()).map((l) => l.owner)).toHaveLength(2);
    await compute.destroyNode(nodes[1]?.id as string);
    expect(await new PortAllocator({ leaseDir }).addressLeases()).toEqual([]);
    expect(await leftovers(URI, `${prefix}sip-`, POOL)).toEqual({ domains: [], volumes: [] });
  });
});
