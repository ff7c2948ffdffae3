import { describe, expect, it } from 'vitest';
import type { NodeMetadata } from '../../model/node-metadata.js';
import { sshEndpointOf } from './ssh-endpoint.js';

const base = {
  id: 'n1',
  name: 'web-1',
  publicAddresses: [],
  privateAddresses: ['10.0.2.15', '192.168.122.40'],
} as const;

function node(parts: Partial<NodeMetadata>): NodeMetadata {
  return { ...base, ...parts } as unknown as NodeMetadata;
}

const nat = { slot: 0, attachment: 'nat', mac: '52:54:00:00:00:01', portForwards: [] } as const;
const routed = {
  slot: 1,
  attachment: 'hostOnly',
  network: 'vmkit-net',
  mac: '52:54:00:00:00:02',
  portForwards: [],
} as const;

describe('sshEndpointOf', () => {
  it('takes the forward of guest port 22, a wildcard host address meaning loopback', () => {
    const forward = {
      name: 'ssh',
      protocol: 'tcp',
      guestPort: 22,
      hostPort: 40022,
      hostIp: '0.0.0.0',
    } as const;
    expect(sshEndpointOf(node({ network: { nics: [{ ...nat, portForwards: [forward] }] } }))).toEqual({
      host: '127.0.0.1',
      port: 40022,
    });
  });

  it('never a NAT NIC address (the host cannot reach it), nor a link-local one', () => {
    const n = node({
      network: { nics: [nat, routed] },
      nicAddresses: [
        { slot: 0, mac: nat.mac, addresses: ['10.0.2.15'], source: 'agent' },
        { slot: 1, mac: routed.mac, addresses: ['fe80::1', '192.168.122.40'], source: 'agent' },
      ],
    });
    expect(sshEndpointOf(n)).toEqual({ host: '192.168.122.40', port: 22 });
  });

  it('refuses a node with only a NAT address and no forward, naming the node', () => {
    const n = node({
      network: { nics: [nat] },
      nicAddresses: [{ slot: 0, mac: nat.mac, addresses: ['10.0.2.15'], source: 'agent' }],
    });
    expect(() => sshEndpointOf(n)).toThrow(/web-1 cannot be reached over SSH/);
  });
});
