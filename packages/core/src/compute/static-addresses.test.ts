import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmkitError } from '../errors/vmkit-error.js';
import type { ConfigDriveSpec } from '../model/config-drive-spec.js';
import type { NicSpec } from '../model/network-spec.js';
import type { TemplateOptions } from '../model/template.js';
import { PortAllocator } from '../ports/port-allocator.js';
import { provider, type Scratch, scratch } from './service.fixture.js';

let s: Scratch;
beforeEach(async () => {
  s = await scratch();
});
afterEach(async () => {
  await s.dispose();
});

/** A provider whose clone specs' config drives are recorded. */
function recording() {
  const p = provider();
  const drives: ConfigDriveSpec[] = [];
  const clone = p.cloneNode.bind(p);
  p.cloneNode = async (spec, opts) => {
    if (spec.configDrive) drives.push(spec.configDrive);
    return clone(spec, opts);
  };
  return { p, drives };
}

const pooled = (format?: 'nocloud' | 'openstack' | 'ovf'): TemplateOptions => ({
  network: {
    nics: [
      { attachment: 'nat' },
      {
        attachment: 'hostOnly',
        network: 'lab',
        ipv4: { pool: '192.168.60.10-192.168.60.11/24', gateway: '192.168.60.1', dns: ['192.168.60.53'] },
      },
    ],
  },
  ...(format ? { configDrive: { format } } : {}),
});

describe('static addresses through createNodesInGroup', () => {
  it('gives each node of a group its own pool address in a NoCloud network-config v2 matched by its MACs', async () => {
    const { p, drives } = recording();
    const service = await s.service(p);
    const nodes = await service.createNodesInGroup('lab', 2, pooled());
    expect(drives).toHaveLength(2);
    const seen = drives.map((d) => {
      expect(d.format).toBe('nocloud');
      const config = d.networkConfig as {
        version: number;
        ethernets: Record<string, Record<string, unknown>>;
      };
      expect(config.version).toBe(2);
      return config.ethernets;
    });
    for (const [i, ethernets] of seen.entries()) {
      const node = nodes.find((n) => n.name === drives[i]?.hostname);
      const [nat, lab] = node?.network.nics ?? [];
      expect(ethernets.nic0).toEqual({ match: { macaddress: nat?.mac }, dhcp4: true });
      expect(ethernets.nic1).toMatchObject({
        match: { macaddress: lab?.mac },
        dhcp4: false,
        routes: [{ to: '0.0.0.0/0', via: '192.168.60.1' }],
        nameservers: { addresses: ['192.168.60.53'] },
      });
    }
    expect(seen.map((e) => (e.nic1?.addresses as string[] | undefined)?.[0]).sort()).toEqual([
      '192.168.60.10/24',
      '192.168.60.11/24',
    ]);
    // Nothing is reported the guest has not shown: the memory provider's guests report no address.
    for (const n of nodes) expect(n.privateAddresses).not.toContain('192.168.60.10');
  });

  it('writes network_data.json on config-2 drives (links by MAC, ipv4 network, netmask, route, dns service)', async () => {
    const { p, drives } = recording();
    const service = await s.service(p);
    const [node] = await service.createNodesInGroup('os', 1, pooled('openstack'));
    const [nat, lab] = node?.network.nics ?? [];
    expect(drives[0]?.networkConfig).toEqual({
      links: [
        { id: 'nic0', type: 'phy', ethernet_mac_address: nat?.mac },
        { id: 'nic1', type: 'phy', ethernet_mac_address: lab?.mac },
      ],
      networks: [
        { id: 'network0', link: 'nic0', network_id: 'vmkit-nic0', type: 'ipv4_dhcp' },
        {
          id: 'network1',
          link: 'nic1',
          network_id: 'vmkit-nic1',
          type: 'ipv4',
          ip_address: '192.168.60.10',
          netmask: '255.255.255.0',
          routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '192.168.60.1' }],
        },
      ],
      services: [{ type: 'dns', address: '192.168.60.53' }],
    });
  });

  it('adds IPv6 beside IPv4 (gateway6), keeps DHCPv4 on a NIC with IPv6 only, and leases each family apart', async () => {
    const { p, drives } = recording();
    const service = await s.service(p);
    const dual: TemplateOptions = {
      network: {
        nics: [
          {
            attachment: 'hostOnly',
            network: 'lab',
            ipv4: { pool: '192.168.60.10-192.168.60.11/24', gateway: '192.168.60.1' },
            ipv6: { pool: 'fd00:60::10-fd00:60::11/64', gateway: 'fd00:60::1', dns: ['fd00:60::53'] },
          },
          { attachment: 'internal', network: 'back', ipv6: { address: 'fd00:61::5/64' } },
        ],
      },
      configDrive: { format: 'nocloud' },
    };
    const [node] = await service.createNodesInGroup('dual', 1, dual);
    const [lab, back] = node?.network.nics ?? [];
    expect(drives[0]?.networkConfig).toEqual({
      version: 2,
      ethernets: {
        nic0: {
          match: { macaddress: lab?.mac },
          dhcp4: false,
          addresses: ['192.168.60.10/24', 'fd00:60::10/64'],
          routes: [{ to: '0.0.0.0/0', via: '192.168.60.1' }],
          gateway6: 'fd00:60::1',
          nameservers: { addresses: ['fd00:60::53'] },
        },
        nic1: { match: { macaddress: back?.mac }, dhcp4: true, addresses: ['fd00:61::5/64'] },
      },
    });
    const leases = await new PortAllocator({ leaseDir: s.leaseDir }).addressLeases();
    expect(leases.map((l) => `${l.scope} ${l.address}`).sort()).toEqual([
      'network:back/ipv6 fd00:61::5',
      'network:lab 192.168.60.10',
      'network:lab/ipv6 fd00:60::10',
    ]);
    const os = await service
      .createNodesInGroup('dual', 1, { ...dual, configDrive: { format: 'openstack' } })
      .catch((e: unknown) => e);
    // The single IPv6 address is held by the first node.
    expect(VmkitError.is(os, 'CONFLICT')).toBe(true);
    const [second] = await service.createNodesInGroup('dual', 1, {
      network: { nics: [dual.network?.nics[0] as NicSpec] },
      configDrive: { format: 'openstack' },
    });
    expect(drives[1]?.networkConfig).toMatchObject({
      networks: [
        { type: 'ipv4', ip_address: '192.168.60.11', netmask: '255.255.255.0' },
        {
          id: 'network0-v6',
          link: 'nic0',
          type: 'ipv6',
          ip_address: 'fd00:60::11',
          netmask: 'ffff:ffff:ffff:ffff::',
          routes: [{ network: '::', netmask: '::', gateway: 'fd00:60::1' }],
        },
      ],
      services: [{ type: 'dns', address: 'fd00:60::53' }],
    });
    expect(second).toBeDefined();
  });

  it('gives the OVF environment the same v2 document (its network-config property)', async () => {
    const { p, drives } = recording();
    const service = await s.service(p);
    await service.createNodesInGroup('ovf', 1, pooled('ovf'));
    expect(drives[0]?.format).toBe('ovf');
    expect(drives[0]?.networkConfig).toMatchObject({
      version: 2,
      ethernets: { nic1: { addresses: ['192.168.60.10/24'] } },
    });
  });

  it('refuses, before anything is made, a third node when the pool is exhausted, and more nodes than the pool holds', async () => {
    const { p } = recording();
    const service = await s.service(p);
    await service.createNodesInGroup('lab', 2, pooled());
    const before = (await p.listNodes()).length;
    const exhausted = await service.createNodesInGroup('lab', 1, pooled()).catch((e: unknown) => e);
    expect(VmkitError.is(exhausted, 'INVALID_ARGUMENT')).toBe(true);
    expect((exhausted as VmkitError).details.field).toBe('network.nics[1].ipv4.pool');
    expect((exhausted as VmkitError).message).toMatch(
      /is exhausted: 0 of its 2 addresses are free and 1 are needed/,
    );
    const tooMany = await service.createNodesInGroup('big', 3, pooled()).catch((e: unknown) => e);
    expect((tooMany as VmkitError).message).toMatch(
      /^network\.nics\[1\]\.ipv4\.pool: holds 2 addresses, fewer than the 3 nodes asked for/,
    );
    expect((await p.listNodes()).length).toBe(before);
  });

  it('refuses one address for a group of two, and a static address without a config drive or with a networkConfig of its own', async () => {
    const service = await s.service(recording().p);
    const one: TemplateOptions = {
      network: { nics: [{ attachment: 'internal', network: 'x', ipv4: { address: '10.1.0.5/24' } }] },
    };
    const twice = await service.createNodesInGroup('two', 2, one).catch((e: unknown) => e);
    expect((twice as VmkitError).details.field).toBe('network.nics[0].ipv4.address');
    expect((twice as VmkitError).message).toMatch(/no address may be used twice in a group/);
    const noDrive = await service
      .createNodesInGroup('nd', 1, { ...one, configDrive: false })
      .catch((e: unknown) => e);
    expect((noDrive as VmkitError).details.field).toBe('configDrive');
    const own = await service
      .createNodesInGroup('own', 1, { ...one, configDrive: { networkConfig: { version: 2 } } })
      .catch((e: unknown) => e);
    expect((own as VmkitError).details.field).toBe('configDrive.networkConfig');
  });

  it('a destroyed node releases its address; two services on one lease directory (two processes) never share one', async () => {
    const { p } = recording();
    const a = await s.service(p);
    const b = await s.service(p);
    const [first] = await a.createNodesInGroup('lab', 1, pooled());
    const [second] = await b.createNodesInGroup('lab', 1, pooled());
    const leases = async () =>
      (await new PortAllocator({ leaseDir: s.leaseDir }).addressLeases()).map((l) => l.address).sort();
    expect(await leases()).toEqual(['192.168.60.10', '192.168.60.11']);
    await a.destroyNode(first?.id as string);
    expect(await leases()).toEqual(['192.168.60.11']);
    const { drives, p: p2 } = recording();
    const c = await s.service(p2);
    await c.createNodesInGroup('lab', 1, pooled());
    const config = drives[0]?.networkConfig as
      | { ethernets: Record<string, { addresses?: string[] }> }
      | undefined;
    const lab = config?.ethernets.nic1;
    expect(lab?.addresses).toEqual(['192.168.60.10/24']);
    expect(second).toBeDefined();
  });
});
