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

/** The settled network of a node: what a provider attaches. */
export interface BoundNetwork {
  /** The NICs. */
  readonly nics: readonly BoundNic[];
}

/** The default network: one NAT NIC and no forwards. */
export const DEFAULT_NETWORK: NetworkSpec = Object.freeze({
  nics: Object.freeze([{ attachment: 'nat' as const }]),
});
