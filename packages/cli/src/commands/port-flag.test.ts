import { describe, expect, it } from 'vitest';
import { PORT_FLAG_RULE, type PortFlag, parsePortFlag, portOptions } from './port-flag.js';

const invalid = (field: string, rule: string) => new Error(`${field}: ${rule}`);
const parseAll = (...texts: string[]) => texts.reduce((all, t) => parsePortFlag(t, all), [] as PortFlag[]);

describe('-p values', () => {
  it('parses GUEST[/proto] and HOST:GUEST[/proto]', () => {
    expect(parseAll('80', '53/udp', '8080:81/tcp', '5353:54/udp')).toEqual([
      { protocol: 'tcp', hostPort: 'auto', guestPort: 80 },
      { protocol: 'udp', hostPort: 'auto', guestPort: 53 },
      { protocol: 'tcp', hostPort: 8080, guestPort: 81 },
      { protocol: 'udp', hostPort: 5353, guestPort: 54 },
    ]);
  });

  it('refuses malformed values and out-of-range ports with the rule', () => {
    for (const bad of ['', ':80', '8080:', '0', '65536', '80/sctp', 'a:80', '1:2:3', '80/TCP '])
      expect(() => parsePortFlag(bad), bad).toThrow(PORT_FLAG_RULE);
  });

  it('refuses the same guest port and protocol twice', () => {
    expect(() => parseAll('80', '8080:80')).toThrow('forwards 80/tcp twice');
    expect(parseAll('53', '53/udp')).toHaveLength(2);
  });

  it('keeps plain TCP ports as inboundPorts; a host port or UDP makes explicit forwards on one NAT NIC', () => {
    expect(portOptions([], 3, invalid)).toEqual({});
    expect(portOptions(parseAll('80', '443'), 3, invalid)).toEqual({ inboundPorts: [80, 443] });
    expect(portOptions(parseAll('8080:80', '53/udp'), 1, invalid)).toEqual({
      network: {
        nics: [
          {
            attachment: 'nat',
            portForwards: [
              { protocol: 'tcp', guestPort: 80, hostPort: 8080 },
              { protocol: 'udp', guestPort: 53, hostPort: 'auto' },
            ],
          },
        ],
      },
    });
  });

  it('refuses a fixed host port for more than one node, naming -p', () => {
    expect(() => portOptions(parseAll('8080:80'), 2, invalid)).toThrow(
      '-p: 8080:80 fixes the host port, which fits one node only',
    );
  });
});
