import type { GuestInterface, GuestInterfaceAddress } from '@vmkit/core/spi';
import { VmkitError } from '@vmkit/core/spi';

/**
 * The interfaces of a `guest-network-get-interfaces` answer (`name`, `hardware-address`,
 * `ip-addresses[]` of `ip-address-type`, `ip-address`, `prefix`), MACs in lower case. Entries
 * without a name, and addresses of another family, are left out.
 */
export function readAgentInterfaces(value: unknown): GuestInterface[] {
  if (!Array.isArray(value))
    throw new VmkitError('PROVIDER', 'guest-network-get-interfaces: the guest agent answered no list');
  const out: GuestInterface[] = [];
  for (const entry of value as Array<Record<string, unknown>>) {
    if (entry === null || typeof entry !== 'object' || typeof entry.name !== 'string') continue;
    const addresses: GuestInterfaceAddress[] = [];
    for (const a of Array.isArray(entry['ip-addresses'])
      ? (entry['ip-addresses'] as Array<Record<string, unknown>>)
      : []) {
      const family = a?.['ip-address-type'];
      const address = a?.['ip-address'];
      if ((family !== 'ipv4' && family !== 'ipv6') || typeof address !== 'string') continue;
      addresses.push({ family, address, prefix: typeof a.prefix === 'number' ? a.prefix : 0 });
    }
    const mac = entry['hardware-address'];
    out.push({
      name: entry.name,
      ...(typeof mac === 'string' ? { mac: mac.toLowerCase() } : {}),
      addresses,
    });
  }
  return out;
}
