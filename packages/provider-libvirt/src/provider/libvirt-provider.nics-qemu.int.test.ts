import { execFileSync } from 'node:child_process';
import { runMasterBuild } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { type LibvirtProvider, libvirtProvider } from './libvirt-provider.js';

/** Names of the host interfaces enslaved to a bridge. */
function portsOf(bridge: string): string[] {
  const out = execFileSync('ip', ['-o', 'link', 'show', 'master', bridge], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

// Real QEMU guests on qemu:///system with an internal NIC (an isolated libvirt network: no host
// address, so no traffic leaves the guest) and a bridged NIC on a bridge the test makes. The guest
// is started for real; the check is on the host side: each NIC's tap device sits on its bridge.
describe('libvirt provider: internal and bridged NICs on a real QEMU guest', () => {
  const prefix = runPrefix('q');
  const bridge = `vmkbr${Date.now().toString(36).slice(-5)}`;
  let provider: LibvirtProvider;
  let master: Awaited<ReturnType<typeof runMasterBuild>>;

  beforeAll(async () => {
    execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
    execFileSync('ip', ['link', 'set', bridge, 'up']);
    provider = libvirtProvider({ uri: 'qemu:///system', namePrefix: prefix });
    master = await runMasterBuild(provider, testGuestMasterSpec('nics-qemu'), `${prefix}nicsq`);
  });

  afterAll(async () => {
    await provider.deleteMaster(master).catch(() => {});
    const client = provider.client;
    if (client) {
      const net = await client.networks.lookupByName(`${prefix}lan`).catch(() => undefined);
      if (net) {
        await client.networks.destroy(net).catch(() => {});
        await client.networks.undefine(net).catch(() => {});
      }
    }
    await provider.close();
    execFileSync('ip', ['link', 'del', bridge]);
  });

  it('starts a guest whose internal and bridged NICs are plugged into their bridges, and unplugs them on destroy', async () => {
    const node = await provider.cloneNode({
      name: 'wired',
      group: 'g',
      imageId: 'nics-qemu',
      master,
      hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
      linked: true,
      tags: [],
      userMetadata: {},
      network: {
        nics: [
          { slot: 0, attachment: 'nat', mac: '52:54:00:10:00:01', portForwards: [] },
          {
            slot: 1,
            attachment: 'internal',
            network: `${prefix}lan`,
            mac: '52:54:00:10:00:02',
            portForwards: [],
          },
          {
            slot: 2,
            attachment: 'bridged',
            hostInterface: bridge,
            mac: '52:54:00:10:00:03',
            portForwards: [],
          },
        ],
      },
    });
    try {
      await provider.startNode(node.id);
      expect((await provider.getNode(node.id))?.status).toBe('running');
      const client = provider.client!;
      const live = await client.domains.getXmlDesc(await client.domains.lookupByName(node.id));
      const tapOf = (mac: string) =>
        new RegExp(`<mac address='${mac}'/>[\\s\\S]*?<target dev='([^']+)'`).exec(live)?.[1] as string;
      const internalBridge = /<bridge name='([^']+)'/.exec(
        await client.networks.getXmlDesc(await client.networks.lookupByName(`${prefix}lan`)),
      )?.[1] as string;
      expect(portsOf(bridge)).toContain(tapOf('52:54:00:10:00:03'));
      expect(portsOf(internalBridge)).toContain(tapOf('52:54:00:10:00:02'));
    } finally {
      await provider.destroyNode(node.id);
    }
    expect(portsOf(bridge)).toEqual([]);
    expect(await provider.getNode(node.id)).toBeUndefined();
  });
});
