import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import type { LibvirtContext } from '../libvirt-context.js';
import { exportLibvirtMaster } from './master-export.js';

const options = { namePrefix: 'vt-', pool: 'vmkit', nodeCmdline: (c: string) => c };

describe('exportLibvirtMaster', () => {
  it('refuses a live boot ISO master (UNSUPPORTED) before touching the pool', async () => {
    let touched = false;
    const ctx = new Proxy({} as LibvirtContext, {
      get(_target, key) {
        if (key === 'options') return options;
        touched = true;
        throw new Error('the pool was touched');
      },
    });
    const ref = {
      id: 'vt-m-x.iso',
      data: {
        pool: 'vmkit',
        boot: 'cdrom',
        volume: 'vt-m-x.iso',
        format: 'raw',
        capacityBytes: 1,
        volumes: ['vt-m-x.iso'],
      },
    };
    const error = await exportLibvirtMaster(ctx, ref, '/nonexistent/out').catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toMatch(/live boot ISO/);
    expect(touched).toBe(false);
  });

  it('is NOT_FOUND when the master volume is gone', async () => {
    const ctx = { options, storage: { find: async () => undefined } } as unknown as LibvirtContext;
    const volume = 'vt-m-gone.qcow2';
    const data = {
      pool: 'vmkit',
      boot: 'disk',
      volume,
      format: 'qcow2',
      capacityBytes: 1,
      volumes: [volume],
    };
    const error = await exportLibvirtMaster(ctx, { id: volume, data }, '/x').catch((e: unknown) => e);
    expect(VmkitError.is(error, 'NOT_FOUND')).toBe(true);
  });

  it('refuses a reference naming a volume vmkit did not make (CORRUPT) before touching the pool', async () => {
    const ctx = { options, storage: {} } as unknown as LibvirtContext;
    const data = {
      pool: 'vmkit',
      boot: 'disk',
      volume: 'other-disk',
      format: 'qcow2',
      capacityBytes: 1,
      volumes: ['other-disk'],
    };
    const error = await exportLibvirtMaster(ctx, { id: 'vt-m-x.qcow2', data }, '/x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/master\.data\.volume /) });
  });
});
