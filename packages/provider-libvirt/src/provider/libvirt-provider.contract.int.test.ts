import { describeProviderContract } from '@vmkit/core/testing';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';

/** Removes whatever a run left in libvirt under its prefix (domains, then volumes). */
async function sweep(uri: string, prefix: string, pool: string): Promise<void> {
  const client = await LibvirtClient.connect(uri);
  try {
    for (const d of await client.domains.listAll()) {
      if (!d.name.startsWith(prefix)) continue;
      await client.domains.destroy(d).catch(() => {});
      await client.domains.undefine(d, 3).catch(() => {});
    }
    const p = await client.storage.poolLookupByName(pool).catch(() => undefined);
    if (p) {
      for (const v of await client.storage.poolListAllVolumes(p)) {
        if (v.name.startsWith(prefix)) await client.storage.volDelete(v).catch(() => {});
      }
    }
  } finally {
    await client.close();
  }
}

describeProviderContract('libvirt test+unix:///default', async () => {
  const prefix = runPrefix('t');
  return {
    // The test driver keeps its objects per connection and runs no guest; the kernel files are
    // referenced in place because it cannot take volume uploads.
    provider: libvirtProvider({ uri: 'test+unix:///default', pool: 'default-pool', namePrefix: prefix }),
    masterSpec: testGuestMasterSpec('contract-test-driver'),
    realGuests: false,
  };
});

describeProviderContract('libvirt qemu:///system', async () => {
  const prefix = runPrefix('q');
  return {
    provider: libvirtProvider({ uri: 'qemu:///system', namePrefix: prefix, stopGraceMs: 15_000 }),
    masterSpec: testGuestMasterSpec('contract-qemu'),
    cleanup: () => sweep('qemu:///system', prefix, 'vmkit'),
  };
});
