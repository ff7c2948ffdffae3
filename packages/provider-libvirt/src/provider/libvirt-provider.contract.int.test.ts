import { describeProviderContract } from '@vmkit/core/testing';
import { sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { libvirtProvider } from './libvirt-provider.js';

describeProviderContract('libvirt test+unix:///default', async () => {
  const prefix = runPrefix('t');
  return {
    // The test driver keeps its objects per connection and runs no guest; the kernel files are
    // referenced in place because it cannot take volume uploads.
    provider: libvirtProvider({ uri: 'test+unix:///default', pool: 'default-pool', namePrefix: prefix }),
    masterSpec: testGuestMasterSpec('contract-test-driver'),
    realGuests: false,
    // Nor volume downloads: its masters cannot be exported, so not shared.
    masterTransfer: false,
  };
});

describeProviderContract('libvirt qemu:///system', async () => {
  const prefix = runPrefix('q');
  return {
    provider: libvirtProvider({ uri: 'qemu:///system', namePrefix: prefix, stopGraceMs: 5_000 }),
    masterSpec: testGuestMasterSpec('contract-qemu'),
    cleanup: () => sweep('qemu:///system', prefix, 'vmkit'),
  };
});
