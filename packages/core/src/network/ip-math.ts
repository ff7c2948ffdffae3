/** An IP address family: its width and its text form. */
export interface IpFamily {
  /** `ipv4` or `ipv6` (the key of a NIC's settings). */
  readonly name: 'ipv4' | 'ipv6';
  /** Address width in bits (32 or 128). */
  readonly bits: number;
  /** The number of an address, or `undefined` when `text` is not one of this family. */
  parse(text: string): bigint | undefined;
  /** The text of an address (dotted for IPv4, RFC 5952 for IPv6). */
  format(n: bigint): string;
  /** Whether subnets have a broadcast address (IPv4) besides the network address. */
  readonly broadcast: boolean;
}

/** A dotted IPv4 address, `a.b.c.d` with each part 0-255 and no leading zeros. */
const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** IPv4: dotted quads. */
export const IPV4: IpFamily = {
  name: 'ipv4',
  bits: 32,
  broadcast: true,
  parse(text) {
    if (!DOTTED.test(text)) return undefined;
    return text.split('.').reduce((n, part) => n * 256n + BigInt(part), 0n);
  },
  format(n) {
    return [24n, 16n, 8n, 0n].map((shift) => String((n >> shift) & 255n)).join('.');
  },
};

/** IPv6: eight groups of hex, `::` for one run of zero groups (no embedded IPv4, no zone). */
export const IPV6: IpFamily = {
  name: 'ipv6',
  bits: 128,
  broadcast: false,
  parse(text) {
    if (!/^[0-9a-fA-F:]{2,39}$/.test(text)) return undefined;
    const halves = text.split('::');
    if (halves.length > 2) return undefined;
    const groups = (part: string | undefined) => (part ? part.split(':') : []);
    const head = groups(halves[0]);
    const tail = groups(halves[1]);
    const missing = 8 - head.length - tail.length;
    if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
    const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
    if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
    return all.reduce((n, g) => (n << 16n) | BigInt(`0x${g}`), 0n);
  },
  format(n) {
    const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
    // RFC 5952: the longest run of two or more zero groups (the first of equal ones) becomes `::`.
    let best = { at: -1, len: 1 };
    for (let i = 0; i < 8; ) {
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      if (j - i > best.len) best = { at: i, len: j - i };
      i = j === i ? i + 1 : j;
    }
    const hex = groups.map((g) => g.toString(16));
    if (best.at < 0) return hex.join(':');
    return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
  },
};

/** The family named by a NIC key. */
export function familyOf(name: 'ipv4' | 'ipv6'): IpFamily {
  return name === 'ipv4' ? IPV4 : IPV6;
}

/** An IP subnet: its network address and prefix length. */
export interface IpSubnet {
  /** The network address (host bits zero). */
  readonly network: bigint;
  /** The prefix length. */
  readonly prefix: number;
}

function mask(family: IpFamily, prefix: number): bigint {
  const all = (1n << BigInt(family.bits)) - 1n;
  return (all >> BigInt(family.bits - prefix)) << BigInt(family.bits - prefix);
}

/** The netmask of a prefix length, as an address (`24` → `255.255.255.0`, `64` → `ffff:ffff:ffff:ffff::`). */
export function netmaskOf(family: IpFamily, prefix: number): string {
  return family.format(mask(family, prefix));
}

/** The subnet of `address` with prefix length `prefix`. */
export function subnetOf(family: IpFamily, address: bigint, prefix: number): IpSubnet {
  return { network: address & mask(family, prefix), prefix };
}

/** The last address of a subnet (IPv4's broadcast address). */
export function lastOf(family: IpFamily, subnet: IpSubnet): bigint {
  return subnet.network + (1n << BigInt(family.bits - subnet.prefix)) - 1n;
}

/** Whether `address` lies in `subnet`. */
export function inSubnet(family: IpFamily, address: bigint, subnet: IpSubnet): boolean {
  return address >= subnet.network && address <= lastOf(family, subnet);
}

/**
 * Why `address` cannot be a host of `subnet`, or `undefined` when it can: outside it; its
 * network address (IPv4 up to /30, IPv6 up to /126: the subnet-router anycast address); its
 * broadcast address (IPv4 up to /30). RFC 3021 /31 (and /127, RFC 6164) and host routes use every
 * address.
 */
export function hostAddressProblem(family: IpFamily, address: bigint, subnet: IpSubnet): string | undefined {
  const cidr = `${family.format(subnet.network)}/${subnet.prefix}`;
  const text = family.format(address);
  if (!inSubnet(family, address, subnet)) return `${text} is outside ${cidr}`;
  const small = subnet.prefix >= family.bits - 1;
  if (!small && address === subnet.network) return `${text} is the network address of ${cidr}`;
  if (!small && family.broadcast && address === lastOf(family, subnet))
    return `${text} is the broadcast address of ${cidr}`;
  return undefined;
}

/** A parsed `address/prefix`. */
export interface IpCidr {
  /** The address. */
  readonly address: bigint;
  /** The prefix length, 1 to the family's width. */
  readonly prefix: number;
}

/** Parses `address/prefix` of `family`, or `undefined` when `text` is not that. */
export function parseCidr(family: IpFamily, text: string): IpCidr | undefined {
  const m = /^([0-9a-fA-F.:]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const address = family.parse(m[1] as string);
  const prefix = Number(m[2]);
  if (address === undefined || prefix < 1 || prefix > family.bits) return undefined;
  return { address, prefix };
}

/** A parsed pool `FIRST-LAST/PREFIX`: consecutive addresses of one subnet. */
export interface IpPool {
  /** The first address. */
  readonly first: bigint;
  /** The last address (at least `first` once the rules passed). */
  readonly last: bigint;
  /** The prefix length of the subnet both lie in. */
  readonly prefix: number;
}

/** Parses `FIRST-LAST/PREFIX` of `family`, or `undefined` when `text` is not that shape. */
export function parsePool(family: IpFamily, text: string): IpPool | undefined {
  const m = /^([0-9a-fA-F.:]+)-([0-9a-fA-F.:]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const first = family.parse(m[1] as string);
  const last = family.parse(m[2] as string);
  const prefix = Number(m[3]);
  if (first === undefined || last === undefined || prefix < 1 || prefix > family.bits) return undefined;
  return { first, last, prefix };
}

/** How many addresses a pool holds. */
export function poolSize(pool: IpPool): bigint {
  return pool.last - pool.first + 1n;
}

/** The addresses of a pool in order, as text. */
export function* poolAddresses(family: IpFamily, pool: IpPool): Generator<string> {
  for (let n = pool.first; n <= pool.last; n++) yield family.format(n);
}
