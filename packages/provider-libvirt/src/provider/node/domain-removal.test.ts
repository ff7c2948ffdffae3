import { VmkitError } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { LibvirtError, LibvirtErrorCode } from '../../errors/libvirt-error.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { removeDomain } from './domain-removal.js';

const libvirtError = (code: number) =>
  new LibvirtError(
    { code, domain: 10, message: `error ${code}`, level: 2, int1: 0, int2: 0 },
    'DOMAIN_DESTROY',
  );

/** A fake context over one domain and some volumes, logging every call. */
function fake(opts: { destroyError?: unknown; failVolumeOnce?: string; xml?: string } = {}) {
  const log: string[] = [];
  let defined = true;
  let active = true;
  const volumes = new Set(['a.qcow2', 'b.iso']);
  let failOnce = opts.failVolumeOnce;
  const dom = { name: 'vmkit-n', uuid: new Uint8Array(16), id: 1 };
  const ctx = {
    client: {
      domains: {
        lookupByName: async () => {
          if (!defined) throw new VmkitError('NOT_FOUND', 'no domain');
          return dom;
        },
        isActive: async () => active,
        destroy: async () => {
          log.push('destroy');
          if (opts.destroyError) throw opts.destroyError;
          active = false;
        },
        getXmlDesc: async () => opts.xml ?? "<domain type='qemu'><name>vmkit-n</name></domain>",
        undefine: async (_dom: unknown, flags: number) => {
          log.push(flags === 3 ? 'undefine' : `undefine flags=${flags}`);
          defined = false;
        },
      },
    },
    storage: {
      delete: async (name: string) => {
        log.push(`delete ${name}`);
        if (failOnce === name) {
          failOnce = undefined;
          throw new VmkitError('PROVIDER', 'volume busy');
        }
        volumes.delete(name);
      },
    },
  } as unknown as Pick<LibvirtContext, 'client' | 'storage'>;
  return { ctx, log, volumes, isDefined: () => defined };
}

describe('removeDomain', () => {
  it('undefines an EFI domain keeping its NVRAM file (a pool volume vmkit deletes itself, or a master NVRAM)', async () => {
    const f = fake({
      xml: "<domain><os><loader readonly='yes' type='pflash'>/c.fd</loader><nvram>/p/vmkit-n-VARS.fd</nvram></os></domain>",
    });
    await removeDomain(f.ctx, 'vmkit-n', ['a.qcow2']);
    // MANAGED_SAVE | SNAPSHOTS_METADATA | KEEP_NVRAM: libvirt refuses to undefine it without one.
    expect(f.log).toEqual(['destroy', 'delete a.qcow2', 'undefine flags=11']);
  });

  it('powers off, deletes the volumes, then undefines', async () => {
    const f = fake();
    await removeDomain(f.ctx, 'vmkit-n', ['a.qcow2', 'b.iso']);
    expect(f.log).toEqual(['destroy', 'delete a.qcow2', 'delete b.iso', 'undefine']);
    expect(f.volumes.size).toBe(0);
    expect(f.isDefined()).toBe(false);
  });

  it('leaves the domain defined when a volume cannot be deleted, so a second run finishes the job', async () => {
    const f = fake({ failVolumeOnce: 'b.iso' });
    await expect(removeDomain(f.ctx, 'vmkit-n', ['a.qcow2', 'b.iso'])).rejects.toMatchObject({
      code: 'PROVIDER',
    });
    expect(f.isDefined()).toBe(true);
    await removeDomain(f.ctx, 'vmkit-n', ['a.qcow2', 'b.iso']);
    expect(f.volumes.size).toBe(0);
    expect(f.isDefined()).toBe(false);
  });

  it('ignores only "not running" from the power-off; other failures stop before anything is removed', async () => {
    const notRunning = fake({ destroyError: libvirtError(LibvirtErrorCode.OPERATION_INVALID) });
    await removeDomain(notRunning.ctx, 'vmkit-n', ['a.qcow2']);
    expect(notRunning.isDefined()).toBe(false);
    const broken = fake({ destroyError: libvirtError(LibvirtErrorCode.INTERNAL_ERROR) });
    await expect(removeDomain(broken.ctx, 'vmkit-n', ['a.qcow2'])).rejects.toBeInstanceOf(LibvirtError);
    expect(broken.log).toEqual(['destroy']);
    expect(broken.isDefined()).toBe(true);
  });

  it('does nothing for an absent domain', async () => {
    const f = fake();
    await removeDomain(f.ctx, 'vmkit-n');
    await removeDomain(f.ctx, 'vmkit-n');
    expect(f.log).toEqual(['destroy', 'undefine']);
  });
});
