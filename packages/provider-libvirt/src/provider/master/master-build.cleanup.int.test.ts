import { runMasterBuild } from '@vmkit/core/spi';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../../test-support/test-guest.js';
import { libvirtProvider } from '../libvirt-provider.js';

const URI = 'qemu:///system';
const POOL = 'vmkit';

describe('libvirt master build: nothing left behind when the installer fails (QEMU)', () => {
  const prefix = runPrefix('c');
  afterAll(() => sweep(URI, prefix, POOL));

  it('removes the installer console log written before the failure', async () => {
    // The installer is stopped at once (timeout 1 ms), after QEMU created its console log.
    const provider = libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix, installTimeoutMs: 1 });
    try {
      const error = await runMasterBuild(provider, testGuestMasterSpec('cleanup'), 'cleanup').catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'TIMEOUT' });
    } finally {
      await provider.close();
    }
    expect(await leftovers(URI, prefix, POOL)).toEqual({ domains: [], volumes: [] });
  });
});
