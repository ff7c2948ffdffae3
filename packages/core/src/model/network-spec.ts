/** How a NIC is attached. */
export type NicAttachment = 'nat' | 'bridged' | 'hostOnly' | 'internal';

/** The attachments vmkit knows, in a stable order. */
export const NIC_ATTACHMENTS: readonly NicAttachment[] = ['nat', 'bridged', 'hostOnly', 'internal'];

/** A rule forwarding a host port to a guest port (NAT NICs only). */
export interface PortForward {
  /** A name for the rule, unique within the NIC (default: `<protocol>-<guestPort>`). */
  readonly name?: string;
  /** Transport protocol. */
  readonly protocol: 'tcp' | 'udp';
  /** Host address to bind (default `127.0.0.1`). */
  readonly hostIp?: string;
  /** Host port, or `'auto'` (the default) to have vmkit lease a free one. */
  readonly hostPort?: number | 'auto';
  /** Guest address (default: the guest's DHCP address). */
  readonly guestIp?: string;
  /** Guest port. */
  readonly guestPort: number;
}

/**
 * A NIC's static IPv4 or IPv6 configuration, written into the node's config drive (cloud-init
 * `network-config` v2, OpenStack `network_data.json`, the OVF environment's `network-config`
 * property). Exactly one of `address` and `pool`; addresses of the family of the key it is under.
 */
export interface NicIpSpec {
  /**
   * One address with its prefix, `a.b.c.d/len` or `fd00::10/64`: for a group of one node.
   */
  readonly address?: string;
  /**
   * Consecutive addresses of one subnet, `FIRST-LAST/PREFIX` (e.g. `192.168.50.10-192.168.50.19/24`,
   * `fd00::10-fd00::1f/64`): each node of a group gets its own, leased across processes as host
   * ports are and released when its node is destroyed.
   */
  readonly pool?: string;
  /** Default gateway, inside the address's subnet (default: none, no default route). */
  readonly gateway?: string;
  /** DNS servers, at most 3 (a Debian guest needs the `resolvconf` package to apply them). */
  readonly dns?: readonly string[];
}

/** One NIC of a node. */
export interface NicSpec {
  /** Adapter slot, 0-based (default: its index in the list). */
  readonly slot?: number;
  /** How the NIC is attached. */
  readonly attachment: NicAttachment;
  /** Host interface for `bridged` (e.g. `br0`) and `hostOnly` NICs. */
  readonly hostInterface?: string;
  /** Network name for `internal` and `hostOnly` NICs. */
  readonly network?: string;
  /** MAC address `xx:xx:xx:xx:xx:xx` (default: generated). */
  readonly mac?: string;
  /** Port forwards (NAT only). */
  readonly portForwards?: readonly PortForward[];
  /** A static IPv4 address for the guest (not on NAT NICs); default: DHCP. */
  readonly ipv4?: NicIpSpec;
  /** A static IPv6 address for the guest (not on NAT NICs); default: what the network offers. */
  readonly ipv6?: NicIpSpec;
}

/** The NICs of a node or master. */
export interface NetworkSpec {
  /** The NICs, at most 8. */
  readonly nics: readonly NicSpec[];
}

/** A port forward whose host port has been leased. */
export interface BoundPortForward {
  /** The rule's name. */
  readonly name: string;
  /** Transport protocol. */
  readonly protocol: 'tcp' | 'udp';
  /** The host address bound. */
  readonly hostIp: string;
  /** The host port bound. */
  readonly hostPort: number;
  /** The guest address, when one was given. */
  readonly guestIp?: string;
  /** The guest port. */
  readonly guestPort: number;
}

/** A NIC whose slot, MAC and port forwards are settled. */
export interface BoundNic {
  /** Adapter slot, 0-based. */
  readonly slot: number;
  /** How the NIC is attached. */
  readonly attachment: NicAttachment;
  /** Host interface, when the attachment uses one. */
  readonly hostInterface?: string;
  /** Network name, when the attachment uses one. */
  readonly network?: string;
  /** MAC address. */
  readonly mac: string;
  /** Port forwards with their leased host ports. */
  readonly portForwards: readonly BoundPortForward[];
}

/** A static address one NIC of a node was given (its `address`, or leased from its `pool`). */
export interface StaticAddress {
  /** The NIC's slot. */
  readonly slot: number;
  /** The NIC's MAC address (how guests find the NIC). */
  readonly mac: string;
  /** Its family. */
  readonly family: 'ipv4' | 'ipv6';
  /** The address (dotted, or RFC 5952 text). */
  readonly address: string;
  /** Its prefix length. */
  readonly prefix: number;
  /** The default gateway, when one was given. */
  readonly gateway?: string;
  /** DNS servers, when given. */
  readonly dns?: readonly string[];
}

/** The settled network of a node: what a provider attaches. */
export interface BoundNetwork {
  /** The NICs. */
  readonly nics: readonly BoundNic[];
}

/** The default network: one NAT NIC and no forwards. */
export const DEFAULT_NETWORK: NetworkSpec = Object.freeze({
  nics: Object.freeze([{ attachment: 'nat' as const }]),
});
