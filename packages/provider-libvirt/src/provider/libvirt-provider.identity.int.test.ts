import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { libvirtProvider } from './libvirt-provider.js';

/**
 * The host name the provider must use, read with `virsh` from the same daemon: its host UUID when
 * the host's SMBIOS data (`virsh sysinfo`) has the same UUID, else its hostname (libvirt makes up
 * a random host UUID at each start on machines without SMBIOS, as this one).
 */
function expectedHostId(uri: string): string {
  const uuid = virshHostUuid(uri).toLowerCase();
  let smbios: string | undefined;
  try {
    const info = execFileSync('virsh', ['-c', uri, 'sysinfo'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    smbios = /<system>[\s\S]*?<entry name='uuid'>([^<]+)<\/entry>/.exec(info)?.[1]?.trim().toLowerCase();
  } catch {
    smbios = undefined;
  }
  if (smbios === uuid) return uuid;
  return `hostname=${execFileSync('virsh', ['-c', uri, 'hostname'], { encoding: 'utf8' }).trim()}`;
}

/** The host UUID as `virsh` reads it from the same daemon's capabilities. */
function virshHostUuid(uri: string): string {
  const caps = execFileSync('virsh', ['-c', uri, 'capabilities'], { encoding: 'utf8' });
  const uuid = /<host>\s*<uuid>([^<]+)<\/uuid>/.exec(caps)?.[1];
  if (!uuid) throw new Error(`virsh reports no host uuid for ${uri}`);
  return uuid.trim();
}

describe('libvirt provider identity (real libvirtd)', () => {
  it('names the daemon host (SMBIOS-backed UUID, else hostname) and the driver URI once connected, and remembers the URI-only id', async () => {
    const provider = libvirtProvider({ uri: 'qemu:///system' });
    try {
      expect(provider.id).toBe('libvirt:qemu:///system');
      await provider.init();
      const host = expectedHostId('qemu:///system');
      expect(provider.id).toBe(`libvirt:${host}:qemu:///system`);
      expect(provider.host).toEqual({ id: host, local: true });
      expect(provider.previousIds).toEqual(['libvirt:qemu:///system']);
    } finally {
      await provider.close();
    }
  });

  it('tells drivers of one host apart, and falls back to the hostname when no UUID is reported', async () => {
    const provider = libvirtProvider({ uri: 'test+unix:///default', pool: 'default-pool' });
    try {
      await provider.init();
      const hostname = execFileSync('virsh', ['-c', 'test+unix:///default', 'hostname'], {
        encoding: 'utf8',
      }).trim();
      expect(provider.id).toBe(`libvirt:hostname=${hostname}:test:///default`);
      expect(provider.id).not.toBe(`libvirt:${expectedHostId('qemu:///system')}:qemu:///system`);
    } finally {
      await provider.close();
    }
  });

  it('takes a configured hostId before anything the daemon says, and refuses a bad one', async () => {
    const provider = libvirtProvider({ uri: 'qemu:///system', hostId: 'rack4-n2' });
    try {
      await provider.init();
      expect(provider.id).toBe('libvirt:rack4-n2:qemu:///system');
    } finally {
      await provider.close();
    }
    expect(() => libvirtProvider({ uri: 'qemu:///system', hostId: '../x' })).toThrow(/hostId/);
  });
});
