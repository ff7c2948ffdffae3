import { describe, expect, it } from 'vitest';
import { configDriveFor, DEFAULT_VENDOR_DATA } from './config-drive-request.js';

describe('configDriveFor', () => {
  it('makes no drive unless asked for or implied by user data or a key', () => {
    expect(configDriveFor('n1', {})).toBeUndefined();
    expect(configDriveFor('n1', { configDrive: false, userData: 'x' })).toBeUndefined();
    expect(configDriveFor('n1', { userData: '#!/bin/sh\n' })?.userData).toBe('#!/bin/sh\n');
    expect(configDriveFor('n1', { authorizePublicKey: 'ssh-ed25519 AAAA k' })?.publicKeys).toEqual([
      'ssh-ed25519 AAAA k',
    ]);
  });

  it('names the node as hostname, gives a fresh instance id, and maps the hostname in /etc/hosts by default', () => {
    const a = configDriveFor('web-1', { configDrive: true });
    const b = configDriveFor('web-1', { configDrive: true });
    expect(a?.hostname).toBe('web-1');
    expect(a?.instanceId).toMatch(/^i-[0-9a-f]{16}$/);
    expect(a?.instanceId).not.toBe(b?.instanceId);
    expect(a?.vendorData).toBe(DEFAULT_VENDOR_DATA);
    expect(DEFAULT_VENDOR_DATA).toMatch(/^#cloud-config\nmanage_etc_hosts: localhost\n$/);
  });

  it("keeps the template's own vendor data instead of the default", () => {
    const drive = configDriveFor('n1', { configDrive: { vendorData: '#cloud-config\nruncmd: [true]\n' } });
    expect(drive?.vendorData).toBe('#cloud-config\nruncmd: [true]\n');
  });
});
