import type { Hardware } from './hardware.js';
import type { LoginCredentials } from './login-credentials.js';
import type { BoundNetwork } from './network-spec.js';
import type { NicAddresses } from './nic-addresses.js';

/** Where a node stands. */
export type NodeStatus = 'pending' | 'running' | 'stopped' | 'suspended' | 'error' | 'unknown';

/** A node as callers see it. */
export interface NodeMetadata {
  /** Node id, unique on the provider. */
  readonly id: string;
  /** Node name, unique within the provider (`group-xxxx` unless named). */
  readonly name: string;
  /** The group the node belongs to. */
  readonly group: string;
  /** The image it was cloned from. */
  readonly imageId: string;
  /** Where it stands. */
  readonly status: NodeStatus;
  /** Its hardware. */
  readonly hardware: Hardware;
  /** Its NICs with the host ports that were really bound. */
  readonly network: BoundNetwork;
  /** Host ports by rule name (`tcp-80` → 40123), for convenience. */
  readonly hostPorts: Readonly<Record<string, number>>;
  /** Addresses reachable from outside the host. */
  readonly publicAddresses: readonly string[];
  /** Addresses on private networks, as the guest or the hypervisor really reports them. */
  readonly privateAddresses: readonly string[];
  /**
   * Per NIC, the addresses the guest has (read from its agent, the hypervisor's DHCP leases or ARP
   * table, or VirtualBox's guest properties); a NIC whose addresses are not known yet has none.
   * Absent when the provider cannot tell.
   */
  readonly nicAddresses?: readonly NicAddresses[];
  /** Tags. */
  readonly tags: readonly string[];
  /** Key/value metadata. */
  readonly userMetadata: Readonly<Record<string, string>>;
  /** How to log in, when known. */
  readonly login?: LoginCredentials;
  /** Whether the disk is a linked clone of the master. */
  readonly linkedClone: boolean;
  /** When it was created (ISO 8601). */
  readonly createdAt: string;
  /**
   * Set on nodes made by a warm `createNodesInGroup`: whether the node resumed the image's saved
   * template (`resumed: true`) or booted cold because the state could not be used (`reason`).
   */
  readonly warm?: { readonly resumed: boolean; readonly reason?: string };
}
