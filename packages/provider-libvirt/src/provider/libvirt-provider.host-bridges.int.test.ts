import { execFileSync } from 'node:child_process';
import type { CloneSpec, MasterRef } from '@vmkit/core/spi';
import { VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../test-support/test-guest.js';
import { type LibvirtProvider, libvirtProvider } from './libvirt-provider.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';
const bridge = `vmkitbr${process.pid % 100000}`;
const veth = `vmkitve${process.pid % 100000}`;

describe('host networks of a real libvirtd: bridges and interfaces, and bridged NICs checked first', () => {
  const prefix = runPrefix('b');
  let provider: LibvirtProvider;
  let master: MasterRef;
  const spec = (name: string, hostInterface: string): CloneSpec => ({
    name,
    group: 'g',
    imageId: 'i',
    master,
    hardware: { id: 'h', cores: 1, ramMiB: 64, diskGiB: 0 },
    network: {
      nics: [
        { slot: 0, attachment: 'nat', mac: '52:54:00:00:02:01', portForwards: [] },
        { slot: 1, attachment: 'bridged', hostInterface, mac: '52:54:00:00:02:02', portForwards: [] },
      ],
    },
    linked: true,
    tags: [],
    userMetadata: {},
  });

  beforeAll(async () => {
    execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
    execFileSync('ip', ['link', 'set', bridge, 'up']);
    execFileSync('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`]);
    provider = libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix });
    await provider.init();
    const client = provider.client!;
    const pool = await client.storage.poolLookupByName(POOL);
    const volume = `${prefix}m-master.qcow2`;
    await client.storage.volCreateXml(
      pool,
      `<volume><name>${volume}</name><capacity unit='bytes'>1048576</capacity><target><format type='qcow2'/></target></volume>`,
    );
    master = {
      id: volume,
      data: { pool: POOL, volume, format: 'qcow2', capacityBytes: 1048576, boot: 'disk', volumes: [volume] },
    };
  });
  afterAll(async () => {
    await provider?.close();
    await sweep(URI, prefix, POOL);
    execFileSync('ip', ['link', 'del', bridge]);
    execFileSync('ip', ['link', 'del', veth]); // its peer goes with it
  });

  it("lists the host's bridges and interfaces beside libvirt's networks, as `ip link` has them", async () => {
    const nets = await provider.listHostNetworks();
    const mine = nets.find((n) => n.name === bridge);
    expect(mine).toMatchObject({ name: bridge, kind: 'bridge' });
    expect(nets.find((n) => n.name === veth)).toMatchObject({ name: veth, kind: 'interface' });
    expect(nets.some((n) => n.name === 'lo')).toBe(false);
  });

  it('defines a node whose bridged NIC joins the real bridge', async () => {
    const node = await provider.cloneNode(spec('joined', bridge));
    const client = provider.client!;
    const xml = await client.domains.getXmlDesc(await client.domains.lookupByName(node.id));
    expect(xml).toContain(`<source bridge='${bridge}'/>`);
    await provider.destroyNode(node.id);
  });

  it('refuses a bridged NIC whose bridge does not exist, or is not a bridge, before anything is created', async () => {
    const before = await leftovers(URI, prefix, POOL);
    for (const [name, iface, rule] of [
      ['missing', `${bridge}x`, /does not exist/],
      ['notbridge', veth, /is a host interface but not a bridge/],
    ] as const) {
      const error = await provider.cloneNode(spec(name, iface)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as VmkitError).message).toMatch(/^network\.nics\[1\]\.hostInterface: /);
      expect((error as VmkitError).message).toMatch(rule);
    }
    expect(await leftovers(URI, prefix, POOL)).toEqual(before);
  });
});
