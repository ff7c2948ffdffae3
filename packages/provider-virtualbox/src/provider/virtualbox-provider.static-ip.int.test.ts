import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type NodeMetadata, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { PortAllocator } from '@vmkit/core/internal';
import { readIso9660 } from '@vmkit/imaging';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  isoMasterSpec,
  itOnSimulator,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../test-support/vbox-env.js';

// Static addresses on VirtualBox: the config drive side is core's (shared with libvirt); the
// simulator's guests apply a NoCloud network-config v2 by MAC as cloud-init does and report what
// they have through Guest Additions' properties, so a static address shows only once the guest
// has it, on the NIC whose MAC the document names.

const POOL = '192.168.70.20-192.168.70.21/24';
const template = {
  network: {
    nics: [
      { attachment: 'nat' as const },
      {
        attachment: 'internal' as const,
        network: 'vmkit-static',
        ipv4: { pool: POOL, gateway: '192.168.70.1' },
      },
    ],
  },
};

describe('static addresses from a pool on VirtualBox (simulator)', () => {
  let env: VboxTestEnv;
  let compute: ComputeService;
  let leaseDir: string;

  beforeAll(async () => {
    env = await vboxTestEnv();
    leaseDir = join(env.folder, 'leases');
    compute = await createComputeService({
      provider: testProvider(env),
      store: fileSystemBlobStore({ root: join(env.folder, 'store') }),
      images: [await isoMasterSpec(env, 'vbox-static')],
      ports: { leaseDir },
    });
  });
  afterAll(async () => {
    await compute?.close();
    await env?.close();
  });

  /**
   * The node once its guest reports an address of the pool's subnet on NIC 1 (Guest Additions'
   * properties; the simulated guest has its DHCP one until its cloud-init pass applied the drive).
   */
  async function reported(node: NodeMetadata): Promise<NodeMetadata> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const now = await compute.getNode(node.id);
      if (now?.nicAddresses?.[1]?.addresses?.some((a) => a.startsWith('192.168.70.'))) return now;
      if (Date.now() > deadline) throw new Error(`${node.name} reported no address on NIC 1`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  itOnSimulator(
    'two nodes get the pool addresses on the NIC the drive names by MAC; a third is refused before anything is made',
    async () => {
      const sim = simOf(env);
      const nodes = await compute.createNodesInGroup('ip', 2, template);
      const seen = await Promise.all(nodes.map(reported));
      const addresses = seen.map((n) => n.nicAddresses?.[1]?.addresses?.[0]).sort();
      expect(addresses).toEqual(['192.168.70.20', '192.168.70.21']);
      for (const n of seen) {
        expect(n.nicAddresses?.[1]).toMatchObject({
          slot: 1,
          mac: n.network.nics[1]?.mac,
          source: 'guest-properties',
        });
        // The NAT NIC kept its DHCP address.
        expect(n.nicAddresses?.[0]?.addresses).toEqual(['10.0.2.15']);
        // The drive the machine has: network-config v2 naming the node's own MACs.
        const [file] = readdirSync(join(env.folder, 'machines')).filter((f) =>
          f.startsWith(`${n.id}-config`),
        );
        const iso = await readIso9660(join(env.folder, 'machines', file as string));
        const text = new TextDecoder().decode(await iso.readFile('network-config'));
        expect(text).toContain(`"macaddress": "${n.network.nics[1]?.mac}"`);
        expect(text).toContain(`"addresses": ["${n.nicAddresses?.[1]?.addresses?.[0]}/24"]`);
        expect(text).toContain('"to": "0.0.0.0/0", "via": "192.168.70.1"');
      }
      const machines = sim.machines().length;
      const media = sim.media().length;
      const error = await compute.createNodesInGroup('ip', 1, template).catch((e: unknown) => e);
      expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as VmkitError).details.field).toBe('network.nics[1].ipv4.pool');
      expect([sim.machines().length, sim.media().length]).toEqual([machines, media]);
      await compute.destroyNodesMatching((n) => n.group === 'ip');
      expect(await new PortAllocator({ leaseDir }).addressLeases()).toEqual([]);
      expect(sim.rejections).toEqual([]);
    },
  );
});
