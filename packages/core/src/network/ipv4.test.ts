import { describe, expect, it } from 'vitest';
import {
  broadcastOf,
  hostAddressProblem,
  inSubnet,
  ipv4ToNumber,
  numberToIpv4,
  parseIpv4Cidr,
  parseIpv4Pool,
  poolAddresses,
  poolSize,
  prefixToNetmask,
  subnetOf,
} from './ipv4.js';

describe('IPv4 CIDR math', () => {
  it('reads and writes dotted addresses, refusing what is not one', () => {
    expect(ipv4ToNumber('192.168.1.10')).toBe(0xc0a8010a);
    expect(ipv4ToNumber('255.255.255.255')).toBe(0xffffffff);
    expect(numberToIpv4(0xc0a8010a)).toBe('192.168.1.10');
    expect(numberToIpv4(0xffffffff)).toBe('255.255.255.255');
    for (const bad of ['256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', ' 1.2.3.4', 'a.b.c.d', ''])
      expect(ipv4ToNumber(bad), bad).toBeUndefined();
  });

  it('turns prefixes into netmasks', () => {
    expect([0, 8, 20, 24, 31, 32].map(prefixToNetmask)).toEqual([
      '0.0.0.0',
      '255.0.0.0',
      '255.255.240.0',
      '255.255.255.0',
      '255.255.255.254',
      '255.255.255.255',
    ]);
  });

  it('finds the subnet, its broadcast address and who is inside', () => {
    const net = subnetOf(ipv4ToNumber('10.1.2.200') as number, 25);
    expect(numberToIpv4(net.network)).toBe('10.1.2.128');
    expect(numberToIpv4(broadcastOf(net))).toBe('10.1.2.255');
    expect(inSubnet(ipv4ToNumber('10.1.2.128') as number, net)).toBe(true);
    expect(inSubnet(ipv4ToNumber('10.1.2.127') as number, net)).toBe(false);
    expect(inSubnet(ipv4ToNumber('10.1.3.0') as number, net)).toBe(false);
  });

  it('says why an address is no host of a subnet: outside, network or broadcast (not for /31 and /32)', () => {
    const n = (a: string) => ipv4ToNumber(a) as number;
    const net24 = subnetOf(n('192.168.5.0'), 24);
    expect(hostAddressProblem(n('192.168.5.1'), net24)).toBeUndefined();
    expect(hostAddressProblem(n('192.168.6.1'), net24)).toBe('192.168.6.1 is outside 192.168.5.0/24');
    expect(hostAddressProblem(n('192.168.5.0'), net24)).toMatch(/network address/);
    expect(hostAddressProblem(n('192.168.5.255'), net24)).toMatch(/broadcast address/);
    expect(hostAddressProblem(n('192.168.5.4'), subnetOf(n('192.168.5.4'), 31))).toBeUndefined();
    expect(hostAddressProblem(n('192.168.5.5'), subnetOf(n('192.168.5.5'), 31))).toBeUndefined();
    expect(hostAddressProblem(n('192.168.5.9'), subnetOf(n('192.168.5.9'), 32))).toBeUndefined();
  });

  it('parses CIDRs and pools, and walks a pool in order', () => {
    expect(parseIpv4Cidr('10.0.0.5/8')).toEqual({ address: 0x0a000005, prefix: 8 });
    for (const bad of ['10.0.0.5', '10.0.0.5/0', '10.0.0.5/33', '10.0.0.5/24/1', '10.0.0/24'])
      expect(parseIpv4Cidr(bad), bad).toBeUndefined();
    const pool = parseIpv4Pool('10.0.0.254-10.0.1.1/16');
    expect(pool).toEqual({ first: 0x0a0000fe, last: 0x0a000101, prefix: 16 });
    expect(poolSize(pool as NonNullable<typeof pool>)).toBe(4);
    expect([...poolAddresses(pool as NonNullable<typeof pool>)]).toEqual([
      '10.0.0.254',
      '10.0.0.255',
      '10.0.1.0',
      '10.0.1.1',
    ]);
    for (const bad of ['10.0.0.1-10.0.0.9', '10.0.0.1/24', '10.0.0.1-10.0.0.x/24', '10.0.0.1-10.0.0.9/40'])
      expect(parseIpv4Pool(bad), bad).toBeUndefined();
  });
});
