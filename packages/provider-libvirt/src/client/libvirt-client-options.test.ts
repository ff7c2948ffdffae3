import { describe, expect, it } from 'vitest';
import { LibvirtClient } from './libvirt-client.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, resolveLibvirtClientOptions } from './libvirt-client-options.js';

describe('libvirt client options', () => {
  it('fills in the named defaults', () => {
    const resolved = resolveLibvirtClientOptions({ uri: 'qemu:///system' });
    expect(resolved.connectTimeoutMs).toBe(DEFAULT_CONNECT_TIMEOUT_MS);
    expect(resolved.keepaliveIntervalMs).toBe(5000);
    expect(resolved.keepaliveCount).toBe(5);
    expect(
      resolveLibvirtClientOptions({ uri: 'qemu:///system', keepaliveIntervalMs: 0 }).keepaliveIntervalMs,
    ).toBe(0);
  });

  it('refuses bad options before connecting, naming each', async () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ uri: '' }, /^uri: must be a libvirt connection URI/],
      [
        { uri: 'qemu:///system', connectTimeoutMs: 0 },
        /^connectTimeoutMs: must be an integer from 1 to 3600000 \(got 0\)/,
      ],
      [{ uri: 'qemu:///system', keepaliveIntervalMs: -1 }, /^keepaliveIntervalMs: must be an integer from 0/],
      [{ uri: 'qemu:///system', keepaliveCount: 2.5 }, /^keepaliveCount: /],
      [{ uri: 'qemu:///system', readOnly: 'yes' }, /^readOnly: must be a boolean/],
      [{ uri: 'qemu:///system', sshBinary: '' }, /^sshBinary: /],
      [{ uri: 'qemu+tls://h/system', tls: 'yes' }, /^tls: must be an object/],
      [
        { uri: 'qemu+tls://h/system', tls: { keyFile: 'key.pem' } },
        /^tls\.keyFile: must be an absolute path/,
      ],
    ];
    for (const [options, message] of bad) {
      await expect(LibvirtClient.connect(options as never)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(message),
      });
    }
  });
});
