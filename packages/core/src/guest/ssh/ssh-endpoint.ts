import { isIPv4 } from 'node:net';
import { VmkitError } from '../../errors/vmkit-error.js';
import type { NodeMetadata } from '../../model/node-metadata.js';

/** Where a node's SSH server is reached from the host. */
export interface SshEndpoint {
  /** Host name or address. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
}

/** The guest port of SSH. */
const SSH_PORT = 22;

/**
 * The node's SSH server as the host reaches it: the host side of a TCP forward of guest port 22
 * (a wildcard host address means loopback), else port 22 of an address the guest has on a NIC
 * that is not NAT (a libvirt network, a bridge, host-only: the host reaches those; a NAT NIC's
 * address is private to the hypervisor), IPv4 first, never link-local. Fails `UNSUPPORTED` naming
 * the node when it has neither.
 */
export function sshEndpointOf(node: NodeMetadata): SshEndpoint {
  for (const nic of node.network.nics) {
    const forward = nic.portForwards.find((f) => f.protocol === 'tcp' && f.guestPort === SSH_PORT);
    if (forward) return { host: loopbackFor(forward.hostIp), port: forward.hostPort };
  }
  const routed = new Set(node.network.nics.filter((n) => n.attachment !== 'nat').map((n) => n.slot));
  const addresses = (node.nicAddresses ?? [])
    .filter((n) => routed.has(n.slot))
    .flatMap((n) => n.addresses ?? [])
    .filter((a) => !a.toLowerCase().startsWith('fe80:'));
  const address = addresses.find((a) => isIPv4(a)) ?? addresses[0];
  if (address !== undefined) return { host: address, port: SSH_PORT };
  throw new VmkitError(
    'UNSUPPORTED',
    `node ${node.name} cannot be reached over SSH: it forwards no host port to guest port 22 ` +
      `(add inboundPorts: [22]) and has no known address on a network the host reaches`,
    { details: { node: node.id, field: 'transport' } },
  );
}

function loopbackFor(hostIp: string): string {
  if (hostIp === '' || hostIp === '0.0.0.0') return '127.0.0.1';
  if (hostIp === '::') return '::1';
  return hostIp;
}
