import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import type { LibvirtContext } from '../libvirt-context.js';
import { exportLibvirtMaster } from './master-export.js';

describe('exportLibvirtMaster', () => {
  it('refuses a live boot ISO master (UNSUPPORTED) before touching the pool', async () => {
    let touched = false;
    const ctx = new Proxy({} as LibvirtContext, {
      get() {
        touched = true;
        throw new Error('the pool was touched');
      },
    });
    const ref = { id: 'vt-m-x.iso', data: { boot: 'cdrom', volume: 'vt-m-x.iso', format: 'raw' } };
    const error = await exportLibvirtMaster(ctx, ref, '/nonexistent/out').catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as Error).message).toMatch(/live boot ISO/);
    expect(touched).toBe(false);
  });

  it('is NOT_FOUND when the master volume is gone', async () => {
    const ctx = { storage: { find: async () => undefined } } as unknown as LibvirtContext;
    const error = await exportLibvirtMaster(
      ctx,
      { id: 'gone', data: { boot: 'disk', volume: 'gone' } },
      '/x',
    ).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'NOT_FOUND')).toBe(true);
  });
});
