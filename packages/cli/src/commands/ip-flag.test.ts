import { describe, expect, it } from 'vitest';
import { IP_FLAG_RULE, type IpFlag, parseIpFlag, withIpNics } from './ip-flag.js';

const parseAll = (...texts: string[]) => texts.reduce((all, t) => parseIpFlag(t, all), [] as IpFlag[]);

describe('vmkit up --ip', () => {
  it('reads an address or a pool on a network, with gateway and DNS servers', () => {
    expect(
      parseAll(
        'lab=192.168.50.10/24',
        'back=10.9.0.10-10.9.0.19/24,gateway=10.9.0.1,dns=1.1.1.1+9.9.9.9',
        'lab=fd00::10-fd00::1f/64,gateway=fd00::1',
      ),
    ).toEqual([
      { network: 'lab', family: 'ipv4', spec: { address: '192.168.50.10/24' } },
      {
        network: 'back',
        family: 'ipv4',
        spec: { pool: '10.9.0.10-10.9.0.19/24', gateway: '10.9.0.1', dns: ['1.1.1.1', '9.9.9.9'] },
      },
      { network: 'lab', family: 'ipv6', spec: { pool: 'fd00::10-fd00::1f/64', gateway: 'fd00::1' } },
    ]);
  });

  it('refuses other shapes with its rule, and one network twice', () => {
    for (const bad of [
      '192.168.50.10/24',
      'lab',
      'lab=',
      'lab=1.2.3.4/24,gw=1.2.3.1',
      'lab=1.2.3.4/24,dns=',
      '-x=1.2.3.4/24',
    ])
      expect(() => parseIpFlag(bad), bad).toThrow(IP_FLAG_RULE);
    expect(() => parseAll('lab=1.2.3.4/24', 'lab=1.2.3.5/24')).toThrow(/lab two IPv4 values/);
  });

  it('keeps the NAT NIC (with its -p forwards) first and adds a host-only NIC per --ip', () => {
    const flags = parseAll('lab=192.168.50.10-192.168.50.19/24');
    const lab = { attachment: 'hostOnly', network: 'lab', ipv4: { pool: '192.168.50.10-192.168.50.19/24' } };
    expect(withIpNics({ inboundPorts: [22] }, flags)).toEqual({
      inboundPorts: [22],
      network: { nics: [{ attachment: 'nat' }, lab] },
    });
    const forwards = {
      nics: [{ attachment: 'nat' as const, portForwards: [{ protocol: 'udp' as const, guestPort: 53 }] }],
    };
    expect(withIpNics({ network: forwards }, flags)).toEqual({ network: { nics: [forwards.nics[0], lab] } });
    expect(withIpNics({ inboundPorts: [80] }, [])).toEqual({ inboundPorts: [80] });
    // IPv4 and IPv6 of one network: one NIC.
    const both = withIpNics({}, parseAll('lab=192.168.50.10/24', 'lab=fd00::10/64'));
    expect(both.network?.nics).toEqual([
      { attachment: 'nat' },
      {
        attachment: 'hostOnly',
        network: 'lab',
        ipv4: { address: '192.168.50.10/24' },
        ipv6: { address: 'fd00::10/64' },
      },
    ]);
  });
});
