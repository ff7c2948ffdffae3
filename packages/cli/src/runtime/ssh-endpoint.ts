import { isIPv4 } from 'node:net';
import type { NodeMetadata } from '@vmkit/core';
import { VmkitError } from '@vmkit/core/spi';

/** Where a node's SSH server answers from the host. */
export interface SshEndpoint {
  /** The host address (an IP). */
  readonly host: string;
  /** The TCP port. */
  readonly port: number;
}

/**
 * Where to reach a node's SSH server: its forward of guest TCP port 22 (on the forward's host
 * address, loopback when it listens on all), else port 22 of an address the guest has on a NIC
 * that is not NAT (a libvirt network or a bridge: reachable from the host; a NAT NIC's address is
 * not), IPv4 first. Neither is `UNSUPPORTED` (exit 8) saying how to get one.
 */
export function sshEndpoint(node: NodeMetadata): SshEndpoint {
  for (const nic of node.network.nics) {
    const forward = nic.portForwards.find((f) => f.protocol === 'tcp' && f.guestPort === 22);
    if (forward === undefined) continue;
    const ip = forward.hostIp;
    const host = ip === undefined || ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip;
    return { host, port: forward.hostPort };
  }
  const routed = new Set(node.network.nics.filter((n) => n.attachment !== 'nat').map((n) => n.slot));
  const addresses = (node.nicAddresses ?? [])
    .filter((n) => routed.has(n.slot))
    .flatMap((n) => n.addresses ?? [])
    .filter((a) => !a.startsWith('fe80:'));
  const address = addresses.find((a) => isIPv4(a)) ?? addresses[0];
  if (address !== undefined) return { host: address, port: 22 };
  throw new VmkitError(
    'UNSUPPORTED',
    `NODE: node ${node.name} has no forward of guest port 22 and no known address on a network the host reaches: create it with -p 22 (vmkit up GROUP -n 1 -p 22), or use vmkit exec (the guest agent)`,
    { details: { field: 'NODE', node: node.name } },
  );
}
