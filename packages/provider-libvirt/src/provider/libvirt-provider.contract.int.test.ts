import { describeProviderContract } from '@vmkit/core/contract';
import { freePort, guestBootId, realObjects, virshNetworkNames } from '../../test-support/contract-probes.js';
import { sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';

const CAPABILITIES = {
  linkedClones: true,
  suspend: true,
  dataVolumes: true,
  sources: ['disk', 'kernel', 'iso', 'bootIso'] as const,
};

describeProviderContract('libvirt test+unix:///default', async () => {
  const prefix = runPrefix('t');
  const pool = 'default-pool';
  // The test driver keeps its objects per connection and runs no guest; the kernel files are
  // referenced in place because it cannot take volume uploads.
  const provider = libvirtProvider({ uri: 'test+unix:///default', pool, namePrefix: prefix });
  const client = () => {
    if (!provider.client) throw new Error('the provider is not connected');
    return provider.client;
  };
  return {
    provider,
    masterSpec: testGuestMasterSpec('contract-test-driver'),
    realGuests: false,
    // Nor volume downloads: its masters cannot be exported, so not shared.
    masterTransfer: false,
    // Nor uploads of config drives.
    configDrives: false,
    expectedCapabilities: { ...CAPABILITIES, portForwarding: false },
    hostNetworks: async () => virshNetworkNames('test+unix:///default').map((name) => ({ name })),
    // The test driver runs no guest: a reboot shows only as the state's reason going back to
    // "booted" (1); after the contract's suspend and resume it is "unpaused" (5).
    bootId: async (id) => {
      const { state, reason } = await client().domains.getState(await client().domains.lookupByName(id));
      return state === 1 ? `running, reason ${reason}` : undefined;
    },
    leftovers: () => realObjects(client(), prefix, pool),
  };
});

describeProviderContract('libvirt qemu:///system', async () => {
  const uri = 'qemu:///system';
  const prefix = runPrefix('q');
  const port = await freePort();
  // A network of the daemon's own that the listing must report: isolated, defined, not started.
  const admin = await LibvirtClient.connect(uri);
  const net = await admin.networks.defineXml(`<network><name>${prefix}net</name></network>`);
  return {
    provider: libvirtProvider({ uri, namePrefix: prefix, stopGraceMs: 5_000 }),
    masterSpec: testGuestMasterSpec('contract-qemu'),
    // Port 80 of the guest forwarded, so the reboot check can read the guest's boot id.
    network: {
      nics: [
        {
          slot: 0,
          attachment: 'nat',
          mac: '52:54:00:00:00:01',
          portForwards: [
            { name: 'http', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: port, guestPort: 80 },
          ],
        },
      ],
    },
    expectedCapabilities: { ...CAPABILITIES, portForwarding: true, sharedFolders: 'virtiofs' },
    hostNetworks: async () => {
      const names = virshNetworkNames(uri);
      if (!names.includes(net.name)) throw new Error(`virsh does not list ${net.name}`);
      return names.map((name) =>
        name === net.name ? { name, kind: 'internal' as const, up: false } : { name },
      );
    },
    bootId: () => guestBootId(port),
    // The domain's virtiofs <filesystem> elements (read-only is not in them: libvirt 9.0 has none).
    sharedFolders: async (id) => {
      const xml = await admin.domains.getXmlDesc(await admin.domains.lookupByName(id));
      return [...xml.matchAll(/<filesystem[^>]*>([\s\S]*?)<\/filesystem>/g)].map((m) => ({
        hostPath: /<source dir='([^']*)'/.exec(m[1] as string)?.[1] ?? '',
        tag: /<target dir='([^']*)'/.exec(m[1] as string)?.[1] ?? '',
      }));
    },
    leftovers: () => realObjects(admin, prefix, 'vmkit'),
    cleanup: async ({ run }) => {
      await sweep(uri, prefix, 'vmkit');
      await admin.networks.undefine(net).catch(() => {});
      // The networks the suite's NICs named (the static address check's), made on demand by the provider.
      for (const name of virshNetworkNames(uri).filter((n) => n.startsWith(`${run}-`))) {
        const made = await admin.networks.lookupByName(name);
        await admin.networks.destroy(made).catch(() => {});
        await admin.networks.undefine(made).catch(() => {});
      }
      await admin.close();
    },
  };
});
