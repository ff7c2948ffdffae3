import { describe, expect, it } from 'vitest';
import { parseGuestInterfaces } from './guest-exec-contract.js';

describe('parseGuestInterfaces', () => {
  it('reads MACs and `ip -o addr` lines of iproute2 and busybox', () => {
    const text = [
      'mac eth0 52:54:00:AA:00:01',
      'mac lo 00:00:00:00:00:00',
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      '2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0\\       valid_lft forever',
      '2: eth0    inet6 fe80::5054:ff:feaa:1/64 scope link \\       valid_lft forever',
      '3: veth1@if4    inet 192.168.100.7/24 scope global veth1',
      'mac veth1 52:54:00:aa:00:02',
    ].join('\n');
    expect(parseGuestInterfaces(text)).toEqual([
      {
        name: 'eth0',
        mac: '52:54:00:aa:00:01',
        addresses: [
          { family: 'ipv4', address: '10.0.2.15', prefix: 24 },
          { family: 'ipv6', address: 'fe80::5054:ff:feaa:1', prefix: 64 },
        ],
      },
      {
        name: 'lo',
        mac: '00:00:00:00:00:00',
        addresses: [{ family: 'ipv4', address: '127.0.0.1', prefix: 8 }],
      },
      {
        name: 'veth1',
        mac: '52:54:00:aa:00:02',
        addresses: [{ family: 'ipv4', address: '192.168.100.7', prefix: 24 }],
      },
    ]);
  });
});
