import type { GuestInterface } from '@vmkit/core/spi';
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
