import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../errors/vmkit-error.js';
import type {
  BoundNetwork,
  BoundNic,
  BoundPortForward,
  NetworkSpec,
  NicSpec,
  PortForward,
} from '../model/network-spec.js';
import type { LeaseClaim, PortAllocator } from '../ports/port-allocator.js';

/** Adds an `'auto'` TCP forward for each inbound port to the first NAT NIC (unless one exists). */
export function withInboundPorts(
  network: NetworkSpec,
  inboundPorts: readonly number[] | undefined,
): NetworkSpec {
  if (!inboundPorts?.length) return network;
  const natIndex = network.nics.findIndex((nic) => nic.attachment === 'nat');
  if (natIndex < 0)
    throw invalidArgument('inboundPorts', 'needs a NAT NIC in the network to forward ports through');
  const nics = network.nics.map((nic, i): NicSpec => {
    if (i !== natIndex) return nic;
    const forwards: PortForward[] = [...(nic.portForwards ?? [])];
    for (const port of inboundPorts) {
      if (!forwards.some((f) => f.protocol === 'tcp' && f.guestPort === port)) {
        forwards.push({ protocol: 'tcp', guestPort: port, hostPort: 'auto' });
      }
    }
    return { ...nic, portForwards: forwards };
  });
  return { nics };
}

/** A random locally administered unicast MAC in QEMU's 52:54:00 range. */
export function randomMac(): string {
  const tail = [...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'));
  return ['52', '54', '00', ...tail].join(':');
}

/**
 * Settles a network for one node: slots, MACs and host ports. Ports come from the allocator as
 * pending leases of `claim`; on failure, the caller releases the claim's leases.
 */
export async function bindNetwork(
  network: NetworkSpec,
  claim: LeaseClaim,
  ports: PortAllocator,
): Promise<BoundNetwork> {
  const nics: BoundNic[] = [];
  for (const [i, nic] of network.nics.entries()) {
    const forwards: BoundPortForward[] = [];
    for (const pf of nic.portForwards ?? []) {
      const hostIp = pf.hostIp ?? '127.0.0.1';
      const hostPort = await ports.lease(claim, pf.protocol, hostIp, pf.hostPort ?? 'auto');
      forwards.push({
        name: pf.name ?? `${pf.protocol}-${pf.guestPort}`,
        protocol: pf.protocol,
        hostIp,
        hostPort,
        ...(pf.guestIp ? { guestIp: pf.guestIp } : {}),
        guestPort: pf.guestPort,
      });
    }
    nics.push({
      slot: nic.slot ?? i,
      attachment: nic.attachment,
      ...(nic.hostInterface ? { hostInterface: nic.hostInterface } : {}),
      ...(nic.network ? { network: nic.network } : {}),
      mac: nic.mac?.toLowerCase() ?? randomMac(),
      portForwards: forwards,
    });
  }
  return { nics };
}

/** Host ports by rule name, across every NIC. */
export function hostPortsOf(network: BoundNetwork): Record<string, number> {
  const out: Record<string, number> = {};
  for (const nic of network.nics) for (const pf of nic.portForwards) out[pf.name] = pf.hostPort;
  return out;
}
