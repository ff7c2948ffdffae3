import type { BoundNetwork, NicAddresses, NicAddressSource } from '@vmkit/core/spi';
import { nicAddressesFromGuest } from '@vmkit/core/spi';
import { InterfaceAddressSource } from '../../client/domain-procedures.js';
import type { DomainHandle } from '../../client/handles.js';
import type { LibvirtContext } from '../libvirt-context.js';
import { guestInterfacesOf } from './nic-address-match.js';

/**
 * How long a node view waits for the guest agent's interface list: short, so that listing many
 * nodes (or one whose agent hangs) stays fast; a node whose agent has not answered by then shows
 * its NAT NICs without addresses.
 */
export const AGENT_ADDRESS_TIMEOUT_MS = 1500;

/** The sources tried, in order, and which NIC attachments each can see. */
const SOURCES: ReadonlyArray<{
  source: NicAddressSource;
  code: number;
  sees: (attachment: string) => boolean;
}> = [
  // The guest's own list: every NIC, NAT (QEMU user networking, unknown to libvirt) included.
  { source: 'agent', code: InterfaceAddressSource.AGENT, sees: () => true },
  // dnsmasq's leases: NICs on libvirt networks with DHCP.
  { source: 'lease', code: InterfaceAddressSource.LEASE, sees: (a) => a === 'hostOnly' || a === 'internal' },
  // The host's ARP table: NICs on bridges and libvirt networks the host has an address on.
  { source: 'arp', code: InterfaceAddressSource.ARP, sees: (a) => a !== 'nat' },
];

/**
 * The addresses each NIC of a running node really has (those `nicAddressesFromGuest` reports:
 * no loopback or link-local ones), read through libvirt's
 * `domainInterfaceAddresses`: from the guest agent first (bounded by
 * {@link AGENT_ADDRESS_TIMEOUT_MS}), then for NICs still without, the DHCP leases of libvirt
 * networks, then the host's ARP table. Nothing is assumed: a NIC no source knows has no addresses.
 * A stopped node, or a driver that runs no guest (the test driver), has none.
 */
export async function readNicAddresses(
  ctx: LibvirtContext,
  dom: DomainHandle,
  network: BoundNetwork,
  running: boolean,
): Promise<NicAddresses[]> {
  let result = nicAddressesFromGuest(network, []);
  if (!running || !ctx.realGuests) return result;
  for (const { source, code, sees } of SOURCES) {
    const wanted = result.filter(
      (n) => n.addresses === undefined && sees(network.nics.find((b) => b.slot === n.slot)?.attachment ?? ''),
    );
    if (wanted.length === 0) continue;
    const signal = source === 'agent' ? AbortSignal.timeout(AGENT_ADDRESS_TIMEOUT_MS) : undefined;
    let found: NicAddresses[];
    try {
      found = nicAddressesFromGuest(
        network,
        guestInterfacesOf(await ctx.client.domains.interfaceAddresses(dom, code, signal)),
        source,
      );
    } catch {
      // No agent (not installed, not started, no channel), no lease, a stopped domain: not known.
      continue;
    }
    result = result.map((n, i) => (n.addresses === undefined ? (found[i] as NicAddresses) : n));
  }
  return result;
}
