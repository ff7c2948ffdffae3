/** A dotted IPv4 address, `a.b.c.d` with each part 0-255 and no leading zeros. */
const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The number of an IPv4 address (0 to 2^32-1), or `undefined` when `text` is not one. */
export function ipv4ToNumber(text: string): number | undefined {
  if (!DOTTED.test(text)) return undefined;
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** The dotted form of an IPv4 address number. */
export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The dotted netmask of a prefix length (`24` → `255.255.255.0`). */
export function prefixToNetmask(prefix: number): string {
  return numberToIpv4(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
}

/** An IPv4 subnet: its network address number and prefix length. */
export interface Ipv4Subnet {
  /** The network address (host bits zero). */
  readonly network: number;
  /** The prefix length, 0-32. */
  readonly prefix: number;
}

/** The subnet of `address` with prefix length `prefix`. */
export function subnetOf(address: number, prefix: number): Ipv4Subnet {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: (address & mask) >>> 0, prefix };
}

/** The broadcast address of a subnet (its last address). */
export function broadcastOf(subnet: Ipv4Subnet): number {
  return subnet.network + 2 ** (32 - subnet.prefix) - 1;
}

/** Whether `address` lies in `subnet`. */
export function inSubnet(address: number, subnet: Ipv4Subnet): boolean {
  return address >= subnet.network && address <= broadcastOf(subnet);
}

/**
 * Why `address` cannot be a host of `subnet` (outside it, or its network or broadcast address
 * when the subnet has those, i.e. prefixes up to /30; RFC 3021 /31 and /32 use every address),
 * or `undefined` when it can.
 */
export function hostAddressProblem(address: number, subnet: Ipv4Subnet): string | undefined {
  const cidr = `${numberToIpv4(subnet.network)}/${subnet.prefix}`;
  if (!inSubnet(address, subnet)) return `${numberToIpv4(address)} is outside ${cidr}`;
  if (subnet.prefix <= 30 && address === subnet.network)
    return `${numberToIpv4(address)} is the network address of ${cidr}`;
  if (subnet.prefix <= 30 && address === broadcastOf(subnet))
    return `${numberToIpv4(address)} is the broadcast address of ${cidr}`;
  return undefined;
}

/** A parsed `address/prefix`. */
export interface Ipv4Cidr {
  /** The address number. */
  readonly address: number;
  /** The prefix length, 1-32. */
  readonly prefix: number;
}

/** Parses `a.b.c.d/prefix` (prefix 1-32), or `undefined` when `text` is not that. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const address = ipv4ToNumber(m[1] as string);
  const prefix = Number(m[2]);
  if (address === undefined || prefix < 1 || prefix > 32) return undefined;
  return { address, prefix };
}

/** A parsed pool `FIRST-LAST/PREFIX`: consecutive addresses of one subnet. */
export interface Ipv4Pool {
  /** The first address number. */
  readonly first: number;
  /** The last address number (at least `first`). */
  readonly last: number;
  /** The prefix length of the subnet both lie in, 1-32. */
  readonly prefix: number;
}

/** Parses `FIRST-LAST/PREFIX`, or `undefined` when `text` is not that shape (the rules are checked apart). */
export function parseIpv4Pool(text: string): Ipv4Pool | undefined {
  const m = /^([0-9.]+)-([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const first = ipv4ToNumber(m[1] as string);
  const last = ipv4ToNumber(m[2] as string);
  const prefix = Number(m[3]);
  if (first === undefined || last === undefined || prefix < 1 || prefix > 32) return undefined;
  return { first, last, prefix };
}

/** How many addresses a pool holds. */
export function poolSize(pool: Ipv4Pool): number {
  return pool.last - pool.first + 1;
}

/** The addresses of a pool in order, dotted. */
export function* poolAddresses(pool: Ipv4Pool): Generator<string> {
  for (let n = pool.first; n <= pool.last; n++) yield numberToIpv4(n);
}
