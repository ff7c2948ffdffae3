import type { BoundNetwork, GuestInterface, NicAddresses, NicAddressSource } from '@vmkit/core/spi';
import type { DomainInterface } from '../../client/domain-procedures.js';

/** libvirt's interface list (`DOMAIN_INTERFACE_ADDRESSES`) in the shape the guest agent SPI uses. */
export function guestInterfacesOf(list: readonly DomainInterface[]): GuestInterface[] {
  return list.map((i) => ({
    name: i.name,
    ...(i.hwaddr === undefined ? {} : { mac: i.hwaddr.toLowerCase() }),
    addresses: i.addrs.map((a) => ({
      family: a.type === 1 ? ('ipv6' as const) : ('ipv4' as const),
      address: a.addr,
      prefix: a.prefix,
    })),
  }));
}

/**
 * Per NIC of `network`, the addresses of the guest interface with its MAC (every address the
 * guest has on it, IPv6 link-local ones included, without prefix), from `source`; a NIC no
 * interface matches, or one without addresses, has none (not known).
 */
export function matchNicAddresses(
  network: BoundNetwork,
  interfaces: readonly GuestInterface[],
  source: NicAddressSource,
): NicAddresses[] {
  return network.nics.map((nic) => {
    const mac = nic.mac.toLowerCase();
    const addresses = interfaces.filter((i) => i.mac === mac).flatMap((i) => i.addresses.map((a) => a.address));
    return addresses.length > 0
      ? { slot: nic.slot, mac: nic.mac, addresses: [...new Set(addresses)], source }
      : { slot: nic.slot, mac: nic.mac };
  });
}
