import type { GuestInterface, GuestInterfaceAddress } from '@vmkit/core/spi';

/** The guest properties Guest Additions report the guest's network in. */
export const GUEST_NET_PATTERN = '/VirtualBox/GuestInfo/Net/*';

const NET_PROPERTY = /^\/VirtualBox\/GuestInfo\/Net\/(\d+)\/(.+)$/;

/** A MAC address as 12 upper-case hex digits (VirtualBox's form), or `undefined` when it is not one. */
function bareMac(mac: string): string | undefined {
  const bare = mac.replace(/[:-]/g, '').toUpperCase();
  return /^[0-9A-F]{12}$/.test(bare) ? bare : undefined;
}

/** The prefix length of a dotted IPv4 netmask (`255.255.255.0` → 24), or `undefined` when it is not one. */
function prefixOf(netmask: string | undefined): number | undefined {
  const parts = netmask?.split('.').map(Number);
  if (parts?.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  const bits = parts.reduce((n, p) => n * 256 + p, 0);
  const ones = bits.toString(2).replace(/0+$/, '');
  return ones.includes('0') ? undefined : ones.length;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

/**
 * The guest's interfaces from the guest properties Guest Additions set
 * (`/VirtualBox/GuestInfo/Net/<n>/{V4/IP,V4/Netmask,MAC,Status,Name}`), in their order. The MAC
 * (12 hex digits there) is given lower case with colons; an interface whose `Status` is `Down`
 * has no addresses; VirtualBox reports only IPv4. Without `Name` (older Guest Additions) the
 * name is `net<n>`. Values that are not what Guest Additions write are left out.
 */
export function guestInterfaces(props: ReadonlyMap<string, string>): GuestInterface[] {
  const byIndex = new Map<number, Map<string, string>>();
  for (const [name, value] of props) {
    const m = NET_PROPERTY.exec(name);
    if (!m) continue;
    const index = Number(m[1]);
    if (!byIndex.has(index)) byIndex.set(index, new Map());
    byIndex.get(index)?.set(m[2] ?? '', value);
  }
  return [...byIndex.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([index, p]) => {
      const mac = bareMac(p.get('MAC') ?? '');
      const ip = p.get('V4/IP') ?? '';
      const addresses: GuestInterfaceAddress[] =
        p.get('Status') !== 'Down' && IPV4.test(ip)
          ? [{ family: 'ipv4', address: ip, prefix: prefixOf(p.get('V4/Netmask')) ?? 32 }]
          : [];
      return {
        name: p.get('Name') || `net${index}`,
        ...(mac ? { mac: mac.toLowerCase().replace(/(..)(?!$)/g, '$1:') } : {}),
        addresses,
      };
    });
}
