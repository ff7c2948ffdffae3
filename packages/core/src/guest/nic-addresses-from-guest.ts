import { isIP } from 'node:net';
import type { BoundNetwork } from '../model/network-spec.js';
import type { NicAddresses, NicAddressSource } from '../model/nic-addresses.js';
import type { GuestInterface } from '../spi/guest-agent.js';

/**
 * Whether an address is worth reporting for a NIC: a valid IPv4 or IPv6 address that is not
 * loopback, unspecified or link-local (`169.254/16`, `fe80::/10`: they need a scope, nobody can
 * reach the node by them). These are the addresses `ip -o addr show scope global` prints.
 */
export function isReportableAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !/^(127\.|169\.254\.|0\.)/.test(address);
  if (family === 6) {
    const lower = address.toLowerCase();
    return lower !== '::1' && lower !== '::' && !/^fe[89ab][0-9a-f]:/.test(lower);
  }
  return false;
}

/**
 * The addresses of each NIC of `network`, matched by MAC (case-insensitively) with the interfaces
 * the guest reports (its agent's list, or any list of the same shape): one entry per NIC, in the
 * network's order, with the NIC's reportable addresses (see {@link isReportableAddress}) in the
 * guest's order, and `source` (default `agent`). A NIC the guest does not list, or lists without a
 * reportable address yet (DHCP still running), has no `addresses`: not known yet.
 */
export function nicAddressesFromGuest(
  network: BoundNetwork,
  interfaces: readonly GuestInterface[],
  source: NicAddressSource = 'agent',
): NicAddresses[] {
  const byMac = new Map<string, string[]>();
  for (const iface of interfaces) {
    if (!iface.mac) continue;
    const mac = iface.mac.toLowerCase();
    const list = byMac.get(mac) ?? [];
    for (const a of iface.addresses)
      if (isReportableAddress(a.address) && !list.includes(a.address)) list.push(a.address);
    byMac.set(mac, list);
  }
  return network.nics.map((nic) => {
    const addresses = byMac.get(nic.mac.toLowerCase());
    return addresses && addresses.length > 0
      ? { slot: nic.slot, mac: nic.mac, addresses, source }
      : { slot: nic.slot, mac: nic.mac };
  });
}

/**
 * Whether an address is private: IPv4 `10/8`, `172.16/12`, `192.168/16`, `100.64/10` (shared
 * address space), IPv6 unique local `fc00::/7`. Others are public.
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const [a = 0, b = 0] = address.split('.').map(Number);
    return (
      a === 10 ||
      (a === 172 && b >= 16 && b < 32) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b < 128)
    );
  }
  return family === 6 && /^f[cd][0-9a-f]{0,2}:/i.test(address);
}

/**
 * Every known address of `nics`, split into private and public ones (see {@link isPrivateAddress}),
 * without repeats, for a node's `privateAddresses` and `publicAddresses`.
 */
export function splitNicAddresses(nics: readonly NicAddresses[]): {
  privateAddresses: string[];
  publicAddresses: string[];
} {
  const all = [...new Set(nics.flatMap((n) => n.addresses ?? []))];
  return {
    privateAddresses: all.filter(isPrivateAddress),
    publicAddresses: all.filter((a) => !isPrivateAddress(a)),
  };
}
