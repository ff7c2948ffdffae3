import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { libvirtProvider } from './libvirt-provider.js';

/** The host UUID as `virsh` reads it from the same daemon's capabilities. */
function virshHostUuid(uri: string): string {
  const caps = execFileSync('virsh', ['-c', uri, 'capabilities'], { encoding: 'utf8' });
  const uuid = /<host>\s*<uuid>([^<]+)<\/uuid>/.exec(caps)?.[1];
  if (!uuid) throw new Error(`virsh reports no host uuid for ${uri}`);
  return uuid.trim();
}

describe('libvirt provider identity (real libvirtd)', () => {
  it('names the daemon host UUID and the driver URI once connected, and remembers the URI-only id', async () => {
    const provider = libvirtProvider({ uri: 'qemu:///system' });
    try {
      expect(provider.id).toBe('libvirt:qemu:///system');
      await provider.init();
      const uuid = virshHostUuid('qemu:///system');
      expect(provider.id).toBe(`libvirt:${uuid}:qemu:///system`);
      expect(provider.host).toEqual({ id: uuid, local: true });
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
      expect(provider.id).not.toContain(virshHostUuid('qemu:///system'));
    } finally {
      await provider.close();
    }
  });
});
