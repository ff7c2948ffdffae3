import { runMasterBuild } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { type LibvirtProvider, libvirtProvider } from './libvirt-provider.js';

const hardware = { id: 'micro', cores: 1, ramMiB: 128, diskGiB: 1 };

describe('libvirt provider: NIC attachments and full clones (test driver)', () => {
  const prefix = runPrefix('n');
  let provider: LibvirtProvider;
  let master: Awaited<ReturnType<typeof runMasterBuild>>;
  beforeAll(async () => {
    provider = libvirtProvider({ uri: 'test+unix:///default', pool: 'default-pool', namePrefix: prefix });
    master = await runMasterBuild(provider, testGuestMasterSpec('nics'), `${prefix}nics`);
  });
  afterAll(async () => {
    await provider.deleteMaster(master).catch(() => {});
    await provider.close();
  });

  it('joins host-only and internal NICs to libvirt networks it creates when missing, and bridged NICs to a bridge', async () => {
    // The test driver's host has one NIC (eth1) and no bridge: give it one for the bridged NIC.
    const bridge = await provider.client!.interfaces.defineXml(
      `<interface type='bridge' name='${prefix}br'><bridge stp='off'/></interface>`,
    );
    const node = await provider.cloneNode({
      name: 'nets',
      group: 'g',
      imageId: 'nics',
      master,
      hardware,
      linked: true,
      tags: [],
      userMetadata: {},
      network: {
        nics: [
          { slot: 0, attachment: 'hostOnly', mac: '52:54:00:00:01:01', portForwards: [] },
          {
            slot: 1,
            attachment: 'internal',
            network: `${prefix}lan`,
            mac: '52:54:00:00:01:02',
            portForwards: [],
          },
          {
            slot: 2,
            attachment: 'bridged',
            hostInterface: `${prefix}br`,
            mac: '52:54:00:00:01:03',
            portForwards: [],
          },
        ],
      },
    });
    const client = provider.client!;
    const xml = await client.domains.getXmlDesc(await client.domains.lookupByName(node.id));
    expect(xml).toContain(`<source network='${prefix}hostonly'`);
    expect(xml).toContain(`<source network='${prefix}lan'`);
    expect(xml).toContain(`<source bridge='${prefix}br'`);
    const hostOnly = await client.networks.lookupByName(`${prefix}hostonly`);
    expect(await client.networks.isActive(hostOnly)).toBe(true);
    expect(await client.networks.getXmlDesc(hostOnly)).toMatch(/<dhcp>/);
    expect(node.network.nics[0]?.network).toBe(`${prefix}hostonly`);
    const kinds = Object.fromEntries((await provider.listHostNetworks()).map((n) => [n.name, n.kind]));
    expect(kinds[`${prefix}hostonly`]).toBe('hostOnly');
    expect(kinds[`${prefix}lan`]).toBe('internal');
    expect(kinds[`${prefix}br`]).toBe('bridge');
    expect(kinds.eth1).toBe('interface');
    await provider.destroyNode(node.id);
    await provider.client!.interfaces.undefine(bridge);
    for (const name of [`${prefix}hostonly`, `${prefix}lan`]) {
      const net = await client.networks.lookupByName(name);
      await client.networks.destroy(net);
      await client.networks.undefine(net);
    }
  });

  it('makes a full copy of the master when linked clones are not wanted', async () => {
    const node = await provider.cloneNode({
      name: 'full',
      group: 'g',
      imageId: 'nics',
      master,
      hardware,
      linked: false,
      tags: [],
      userMetadata: {},
      network: { nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:01:04', portForwards: [] }] },
    });
    expect(node.linkedClone).toBe(false);
    const client = provider.client!;
    const pool = await client.storage.poolLookupByName('default-pool');
    const vol = await client.storage.volLookupByName(pool, `${prefix}full.qcow2`);
    expect(await client.storage.volGetXmlDesc(vol)).not.toContain('<backingStore>');
    await provider.destroyNode(node.id);
    await expect(client.storage.volLookupByName(pool, `${prefix}full.qcow2`)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('rejects a bridged NIC without a host bridge and leaves nothing behind', async () => {
    await expect(
      provider.cloneNode({
        name: 'nobridge',
        group: 'g',
        imageId: 'nics',
        master,
        hardware,
        linked: true,
        tags: [],
        userMetadata: {},
        network: { nics: [{ slot: 0, attachment: 'bridged', mac: '52:54:00:00:01:05', portForwards: [] }] },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await provider.getNode(`${prefix}nobridge`)).toBeUndefined();
  });
});
