import { isNoSpaceError, type VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { DomainDiskErrorCode, DomainState } from '../../client/domain-procedures.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { domainFault } from './domain-fault.js';

const dom = { name: 'vm-install-x', uuid: new Uint8Array(16), id: 3 };
const XML = `<domain><devices>
  <disk type='volume' device='disk'><source pool='p1' volume='vm-m-x.qcow2'/><target dev='vda' bus='virtio'/></disk>
  <disk type='file' device='cdrom'><source file='/pool/vm-x.iso'/><target dev='hdc' bus='ide'/></disk>
</devices></domain>`;

/** A context whose domain reports `diskError` on `disk`, in a pool with 0 bytes free. */
function context(disk: string, diskError: number): LibvirtContext {
  return {
    client: {
      domains: {
        getDiskErrors: async () => [{ disk, error: diskError }],
        getXmlDesc: async () => XML,
      },
      storage: { volGetInfo: async () => ({ type: 0, capacity: 1000, allocation: 400 }) },
    },
    storage: {
      place: { kind: 'pool', name: 'p1', field: 'pool' },
      freeBytes: async () => 0,
      find: async () => ({}),
    },
  } as unknown as LibvirtContext;
}

const full = context('vda', DomainDiskErrorCode.NO_SPACE);
const fault = (state: number, reason: number, expect: 'poweroff' | 'running', ctx = full) =>
  domainFault(ctx, dom, 'installer vm-install-x', { state, reason }, expect);

describe('domainFault', () => {
  it('names the full pool, the disk and its volume, free and needed bytes for a pause on ENOSPC', async () => {
    const e = (await fault(DomainState.PAUSED, 5, 'poweroff')) as VmkitError;
    expect(isNoSpaceError(e)).toBe(true);
    expect(e.message).toBe(
      'disk full on pool p1: installer vm-install-x paused: a write to disk vda (volume vm-m-x.qcow2) found no space left (ENOSPC) (0 bytes free, 600 bytes needed)',
    );
    expect(e.details).toMatchObject({ pool: 'p1', field: 'pool', freeBytes: 0, neededBytes: 600 });
  });

  it('reports another I/O error naming the disk, not as a full disk', async () => {
    const e = (await fault(
      DomainState.PAUSED,
      5,
      'poweroff',
      context('hdc', DomainDiskErrorCode.UNSPEC),
    )) as VmkitError;
    expect(isNoSpaceError(e)).toBe(false);
    expect(e.message).toBe('installer vm-install-x paused on an I/O error of disk hdc (volume vm-x.iso)');
  });

  it('fails on crashes and QEMU failures, whatever is expected', async () => {
    for (const expect_ of ['poweroff', 'running'] as const) {
      expect((await fault(DomainState.CRASHED, 1, expect_))?.message).toBe('installer vm-install-x crashed');
      expect((await fault(DomainState.SHUTOFF, 3, expect_))?.message).toBe('installer vm-install-x crashed');
      expect((await fault(DomainState.PAUSED, 10, expect_))?.message).toBe(
        'installer vm-install-x crashed (guest panic)',
      );
      expect((await fault(DomainState.SHUTOFF, 6, expect_))?.message).toBe(
        'installer vm-install-x stopped: QEMU failed',
      );
    }
  });

  it('lets a build boot power off, but not a node being started; a destroyed build boot fails', async () => {
    expect(await fault(DomainState.SHUTOFF, 1, 'poweroff')).toBeUndefined();
    expect((await fault(DomainState.SHUTOFF, 2, 'poweroff'))?.message).toBe(
      'installer vm-install-x stopped unexpectedly destroyed',
    );
    expect((await fault(DomainState.SHUTOFF, 2, 'running'))?.message).toBe(
      'installer vm-install-x stopped unexpectedly destroyed',
    );
  });

  it('leaves running domains and a pause by the user alone', async () => {
    expect(await fault(DomainState.RUNNING, 1, 'running')).toBeUndefined();
    expect(await fault(DomainState.PAUSED, 1, 'poweroff')).toBeUndefined();
  });
});
