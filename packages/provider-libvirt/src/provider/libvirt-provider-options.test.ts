import { silentLogger } from '@vmkit/core/spi';
import { describe, expect, it } from 'vitest';
import { chooseDomainType, readHostGuestSupport } from './host/host-capabilities.js';
import { resolveLibvirtProviderOptions } from './libvirt-provider-options.js';
import { nodeStatus } from './node/node-status.js';

describe('resolveLibvirtProviderOptions', () => {
  it('fills defaults and freezes', () => {
    const o = resolveLibvirtProviderOptions({ uri: 'qemu:///system' });
    expect(o).toMatchObject({
      pool: 'vmkit',
      poolPath: '/var/lib/libvirt/vmkit',
      namePrefix: 'vmkit-',
      machine: 'pc',
    });
    expect(Object.isFrozen(o)).toBe(true);
    expect(o.nodeCmdline('console=ttyS0 vmkit.mode=install root=/dev/vda')).toBe(
      'console=ttyS0 vmkit.mode=run root=/dev/vda',
    );
    expect(resolveLibvirtProviderOptions({ uri: 'qemu:///session' }).poolPath).toMatch(
      /\.local\/share\/libvirt\/vmkit$/,
    );
  });

  it('logs nothing by default and keeps a given logger', () => {
    expect(resolveLibvirtProviderOptions({ uri: 'qemu:///system' }).logger).toBe(silentLogger);
    const logger = { ...silentLogger };
    expect(resolveLibvirtProviderOptions({ uri: 'qemu:///system', logger }).logger).toBe(logger);
  });

  it('names the bad option', () => {
    expect(() => resolveLibvirtProviderOptions({ uri: '' })).toThrow(/^uri:/);
    expect(() => resolveLibvirtProviderOptions({ uri: 'qemu:///system', pool: '../x' })).toThrow(/^pool:/);
    expect(() => resolveLibvirtProviderOptions({ uri: 'qemu:///system', poolPath: 'rel/path' })).toThrow(
      /^poolPath:/,
    );
    expect(() => resolveLibvirtProviderOptions({ uri: 'qemu:///system', poolPath: '/a/../b' })).toThrow(
      /^poolPath:/,
    );
    expect(() => resolveLibvirtProviderOptions({ uri: 'qemu:///system', namePrefix: 'a/b' })).toThrow(
      /^namePrefix:/,
    );
    expect(() => resolveLibvirtProviderOptions({ uri: 'qemu:///system', namePrefix: '' })).toThrow(
      /^namePrefix: must be 1-20/,
    );
    expect(() => resolveLibvirtProviderOptions({ uri: 'qemu:///system', domainType: 'KVM!' })).toThrow(
      /^domainType:/,
    );
    expect(() => resolveLibvirtProviderOptions({ uri: 'qemu:///system', installTimeoutMs: -1 })).toThrow(
      /^installTimeoutMs:/,
    );
    expect(() => resolveLibvirtProviderOptions({ uri: 'qemu:///system', postInstallTimeoutMs: 1.5 })).toThrow(
      /^postInstallTimeoutMs:/,
    );
    expect(() => resolveLibvirtProviderOptions({ uri: 'qemu:///system', installPowerOffMs: -5 })).toThrow(
      /^installPowerOffMs:/,
    );
    expect(resolveLibvirtProviderOptions({ uri: 'qemu:///system' }).installPowerOffMs).toBe(60_000);
    expect(() => resolveLibvirtProviderOptions({ uri: 'qemu:///system', machine: 'isapc' as never })).toThrow(
      /^machine:/,
    );
    expect(() =>
      resolveLibvirtProviderOptions({ uri: 'qemu+tls://h/system', tls: { caFile: 'ca.pem' } }),
    ).toThrow(/^tls\.caFile: must be an absolute path/);
  });
});

describe('domain type from capabilities', () => {
  const caps = `<capabilities><host><cpu><arch>x86_64</arch></cpu></host>
    <guest><os_type>hvm</os_type><arch name='i686'><domain type='qemu'/></arch></guest>
    <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/><domain type='kvm'/></arch></guest></capabilities>`;

  it('prefers the host architecture and TCG unless KVM is asked for', () => {
    const support = readHostGuestSupport(caps);
    expect(support).toEqual({ arch: 'x86_64', domainTypes: ['qemu', 'kvm'] });
    expect(chooseDomainType(support)).toBe('qemu');
    expect(chooseDomainType(support, 'kvm')).toBe('kvm');
    expect(() => chooseDomainType(support, 'xen')).toThrow(/not offered/);
  });

  it('falls back to what the driver offers (the test driver)', () => {
    const support = readHostGuestSupport(
      `<capabilities><host><cpu><arch>i686</arch></cpu></host><guest><os_type>hvm</os_type><arch name='i686'><domain type='test'/></arch></guest></capabilities>`,
    );
    expect(chooseDomainType(support)).toBe('test');
    expect(() => readHostGuestSupport('<capabilities/>')).toThrow(/no hvm guest/);
  });

  it('maps domain states to node statuses', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(nodeStatus)).toEqual([
      'unknown',
      'running',
      'running',
      'suspended',
      'stopped',
      'stopped',
      'error',
      'suspended',
    ]);
  });
});
