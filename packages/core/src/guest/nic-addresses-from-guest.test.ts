import { describe, expect, it } from 'vitest';
import type { BoundNetwork } from '../model/network-spec.js';
import {
  isPrivateAddress,
  isReportableAddress,
  nicAddressesFromGuest,
  splitNicAddresses,
} from './nic-addresses-from-guest.js';

const network: BoundNetwork = {
  nics: [
    { slot: 0, attachment: 'nat', mac: '52:54:00:AA:00:01', portForwards: [] },
    { slot: 1, attachment: 'hostOnly', network: 'n1', mac: '52:54:00:aa:00:02', portForwards: [] },
    { slot: 2, attachment: 'internal', network: 'n2', mac: '52:54:00:aa:00:03', portForwards: [] },
  ],
};

describe('nicAddressesFromGuest', () => {
  it('maps guest interfaces to NICs by MAC, keeping reachable addresses only', () => {
    const nics = nicAddressesFromGuest(network, [
      {
        name: 'lo',
        mac: '00:00:00:00:00:00',
        addresses: [{ family: 'ipv4', address: '127.0.0.1', prefix: 8 }],
      },
      {
        name: 'eth1',
        mac: '52:54:00:aa:00:02',
        addresses: [
          { family: 'ipv4', address: '192.168.122.40', prefix: 24 },
          { family: 'ipv6', address: 'fe80::5054:ff:feaa:2', prefix: 64 },
          { family: 'ipv6', address: 'fd00::40', prefix: 64 },
        ],
      },
      {
        name: 'eth0',
        mac: '52:54:00:aa:00:01',
        addresses: [{ family: 'ipv4', address: '10.0.2.15', prefix: 24 }],
      },
      {
        name: 'eth2',
        mac: '52:54:00:aa:00:03',
        addresses: [{ family: 'ipv6', address: 'fe80::1', prefix: 64 }],
      },
    ]);
    expect(nics).toEqual([
      { slot: 0, mac: '52:54:00:AA:00:01', addresses: ['10.0.2.15'], source: 'agent' },
      { slot: 1, mac: '52:54:00:aa:00:02', addresses: ['192.168.122.40', 'fd00::40'], source: 'agent' },
      { slot: 2, mac: '52:54:00:aa:00:03' },
    ]);
  });

  it('says nothing is known when the guest lists no interface', () => {
    expect(nicAddressesFromGuest(network, []).every((n) => n.addresses === undefined)).toBe(true);
  });
});

describe('address classes', () => {
  it('tells reportable and private addresses', () => {
    expect(['10.1.2.3', '2001:db8::1', 'fd12::1'].every(isReportableAddress)).toBe(true);
    expect(['127.0.0.1', '169.254.1.1', 'fe80::1', '::1', 'x'].some(isReportableAddress)).toBe(false);
    expect(
      ['10.0.0.1', '172.16.0.1', '172.31.9.9', '192.168.1.1', '100.64.0.1', 'fd00::1', 'fc00::1'].every(
        isPrivateAddress,
      ),
    ).toBe(true);
    expect(['172.32.0.1', '8.8.8.8', '2001:db8::1', '192.169.0.1'].some(isPrivateAddress)).toBe(false);
    expect(
      splitNicAddresses([
        { slot: 0, mac: 'm', addresses: ['10.0.2.15', '203.0.113.5', '10.0.2.15'] },
        { slot: 1, mac: 'n' },
      ]),
    ).toEqual({
      privateAddresses: ['10.0.2.15'],
      publicAddresses: ['203.0.113.5'],
    });
  });
});
