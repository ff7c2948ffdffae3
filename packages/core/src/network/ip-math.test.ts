import { describe, expect, it } from 'vitest';
import {
  hostAddressProblem,
  IPV4,
  IPV6,
  inSubnet,
  lastOf,
  netmaskOf,
  parseCidr,
  parsePool,
  poolAddresses,
  poolSize,
  subnetOf,
} from './ip-math.js';

const v4 = (text: string) => IPV4.parse(text) as bigint;
const v6 = (text: string) => IPV6.parse(text) as bigint;

describe('IP CIDR math', () => {
  it('reads and writes IPv4 addresses, refusing what is not one', () => {
    expect(IPV4.parse('192.168.1.10')).toBe(0xc0a8010an);
    expect(IPV4.format(0xffffffffn)).toBe('255.255.255.255');
    expect(IPV4.format(0xc0a8010an)).toBe('192.168.1.10');
    for (const bad of ['256.1.1.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', ' 1.2.3.4', 'a.b.c.d', '', '::1'])
      expect(IPV4.parse(bad), bad).toBeUndefined();
  });

  it('reads IPv6 in its forms and writes RFC 5952 text', () => {
    expect(IPV6.format(v6('fd00:0:0:0:0:0:0:10'))).toBe('fd00::10');
    expect(IPV6.format(v6('FD00:0000:0000:0001:0:0:0:0'))).toBe('fd00:0:0:1::');
    expect(IPV6.format(v6('::'))).toBe('::');
    expect(IPV6.format(v6('::1'))).toBe('::1');
    expect(IPV6.format(v6('1:0:0:2:0:0:0:3'))).toBe('1:0:0:2::3');
    expect(IPV6.format(v6('1:2:3:4:5:6:7:8'))).toBe('1:2:3:4:5:6:7:8');
    expect(IPV6.format(v6('1:0:2:3:4:5:6:7'))).toBe('1:0:2:3:4:5:6:7');
    for (const bad of [
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'g::1',
      ':1',
      '1.2.3.4',
      '1:2:3:4:5:6:7::8',
    ])
      expect(IPV6.parse(bad), bad).toBeUndefined();
  });

  it('turns prefixes into netmasks', () => {
    expect([0, 8, 20, 24, 31, 32].map((p) => netmaskOf(IPV4, p))).toEqual([
      '0.0.0.0',
      '255.0.0.0',
      '255.255.240.0',
      '255.255.255.0',
      '255.255.255.254',
      '255.255.255.255',
    ]);
    expect([0, 64, 127, 128].map((p) => netmaskOf(IPV6, p))).toEqual([
      '::',
      'ffff:ffff:ffff:ffff::',
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe',
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ]);
  });

  it('finds the subnet, its last address and who is inside', () => {
    const net = subnetOf(IPV4, v4('10.1.2.200'), 25);
    expect(IPV4.format(net.network)).toBe('10.1.2.128');
    expect(IPV4.format(lastOf(IPV4, net))).toBe('10.1.2.255');
    expect(inSubnet(IPV4, v4('10.1.2.128'), net)).toBe(true);
    expect(inSubnet(IPV4, v4('10.1.2.127'), net)).toBe(false);
    expect(inSubnet(IPV4, v4('10.1.3.0'), net)).toBe(false);
    const six = subnetOf(IPV6, v6('fd00:1::abcd'), 64);
    expect(IPV6.format(six.network)).toBe('fd00:1::');
    expect(IPV6.format(lastOf(IPV6, six))).toBe('fd00:1::ffff:ffff:ffff:ffff');
  });

  it('says why an address is no host of a subnet: outside, network or broadcast (not for /31, /32, /127, /128)', () => {
    const net24 = subnetOf(IPV4, v4('192.168.5.0'), 24);
    expect(hostAddressProblem(IPV4, v4('192.168.5.1'), net24)).toBeUndefined();
    expect(hostAddressProblem(IPV4, v4('192.168.6.1'), net24)).toBe('192.168.6.1 is outside 192.168.5.0/24');
    expect(hostAddressProblem(IPV4, v4('192.168.5.0'), net24)).toMatch(/network address/);
    expect(hostAddressProblem(IPV4, v4('192.168.5.255'), net24)).toMatch(/broadcast address/);
    expect(
      hostAddressProblem(IPV4, v4('192.168.5.4'), subnetOf(IPV4, v4('192.168.5.4'), 31)),
    ).toBeUndefined();
    expect(
      hostAddressProblem(IPV4, v4('192.168.5.5'), subnetOf(IPV4, v4('192.168.5.5'), 31)),
    ).toBeUndefined();
    expect(
      hostAddressProblem(IPV4, v4('192.168.5.9'), subnetOf(IPV4, v4('192.168.5.9'), 32)),
    ).toBeUndefined();
    const net64 = subnetOf(IPV6, v6('fd00::'), 64);
    expect(hostAddressProblem(IPV6, v6('fd00::'), net64)).toBe('fd00:: is the network address of fd00::/64');
    // IPv6 has no broadcast address: the last one is a host.
    expect(hostAddressProblem(IPV6, v6('fd00::ffff:ffff:ffff:ffff'), net64)).toBeUndefined();
    expect(hostAddressProblem(IPV6, v6('fd00::'), subnetOf(IPV6, v6('fd00::'), 127))).toBeUndefined();
  });

  it('parses CIDRs and pools, and walks a pool in order', () => {
    expect(parseCidr(IPV4, '10.0.0.5/8')).toEqual({ address: 0x0a000005n, prefix: 8 });
    expect(parseCidr(IPV6, 'fd00::5/64')).toEqual({ address: v6('fd00::5'), prefix: 64 });
    for (const bad of ['10.0.0.5', '10.0.0.5/0', '10.0.0.5/33', '10.0.0.5/24/1', '10.0.0/24'])
      expect(parseCidr(IPV4, bad), bad).toBeUndefined();
    expect(parseCidr(IPV6, 'fd00::5/129')).toBeUndefined();
    const pool = parsePool(IPV4, '10.0.0.254-10.0.1.1/16');
    expect(pool).toEqual({ first: 0x0a0000fen, last: 0x0a000101n, prefix: 16 });
    expect(poolSize(pool as NonNullable<typeof pool>)).toBe(4n);
    expect([...poolAddresses(IPV4, pool as NonNullable<typeof pool>)]).toEqual([
      '10.0.0.254',
      '10.0.0.255',
      '10.0.1.0',
      '10.0.1.1',
    ]);
    const six = parsePool(IPV6, 'fd00::fffe-fd00::1:1/64');
    expect([...poolAddresses(IPV6, six as NonNullable<typeof six>)]).toEqual([
      'fd00::fffe',
      'fd00::ffff',
      'fd00::1:0',
      'fd00::1:1',
    ]);
    for (const bad of ['10.0.0.1-10.0.0.9', '10.0.0.1/24', '10.0.0.1-10.0.0.x/24', '10.0.0.1-10.0.0.9/40'])
      expect(parsePool(IPV4, bad), bad).toBeUndefined();
  });
});
