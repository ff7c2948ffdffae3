import type { NicAttachment, NicIpSpec } from '../model/network-spec.js';
import {
  hostAddressProblem,
  type IpFamily,
  type IpSubnet,
  parseCidr,
  parsePool,
  poolSize,
  subnetOf,
} from './ip-math.js';

/** One broken rule of a NIC's `ipv4` or `ipv6`: the key under it the rule is about, and the rule. */
export interface IpProblem {
  /** The key (`address`, `pool`, `gateway`, `dns`), or absent for `ipv4`/`ipv6` itself. */
  readonly key?: 'address' | 'pool' | 'gateway' | 'dns';
  /** The rule, as a sentence fragment after the field's name. */
  readonly rule: string;
}

/** At most this many addresses in a pool (its leases are looked through address by address). */
export const MAX_POOL_SIZE = 65536;

/** At most this many DNS servers (what resolv.conf and the guests' tools take). */
export const MAX_DNS_SERVERS = 3;

/** How addresses of a family are written, for the rules' texts. */
function shapes(family: IpFamily): { address: string; cidr: string } {
  return family.name === 'ipv4'
    ? { address: 'an IPv4 address a.b.c.d', cidr: 'an IPv4 address with its prefix, a.b.c.d/1-32' }
    : { address: 'an IPv6 address (x:x::x)', cidr: 'an IPv6 address with its prefix, x:x::x/1-128' };
}

/**
 * The rules a NIC's `ipv4` or `ipv6` (of `family`) breaks: exactly one of `address` and `pool`; an
 * address with its prefix that is a host of its subnet (not its network address, nor IPv4's
 * broadcast address); a pool `FIRST-LAST/PREFIX` of at most {@link MAX_POOL_SIZE} addresses whose
 * ends lie in one subnet, in order, neither of them such an address; a gateway inside that subnet,
 * not an address the nodes get; DNS servers of the family, at most {@link MAX_DNS_SERVERS}. NAT
 * NICs take none: on both providers a NAT NIC is the hypervisor's private user-mode network
 * (QEMU's slirp, VirtualBox's NAT engine, 10.0.2.0/24), whose own DHCP gives the guest 10.0.2.15,
 * the address its port forwards lead to.
 */
export function ipProblems(family: IpFamily, spec: NicIpSpec, attachment: NicAttachment): IpProblem[] {
  if (attachment === 'nat') {
    return [
      {
        rule:
          "NAT NICs take no static address: the hypervisor's NAT (10.0.2.0/24) gives the guest its address by DHCP " +
          'and forwards ports to it; use a hostOnly, internal or bridged NIC',
      },
    ];
  }
  const text = shapes(family);
  const out: IpProblem[] = [];
  let subnet: IpSubnet | undefined;
  let taken: (n: bigint) => boolean = () => false;
  if ((spec.address === undefined) === (spec.pool === undefined)) {
    out.push({ rule: 'needs exactly one of address and pool' });
  } else if (spec.address !== undefined) {
    const cidr = parseCidr(family, spec.address);
    if (!cidr) out.push({ key: 'address', rule: `must be ${text.cidr}` });
    else {
      subnet = subnetOf(family, cidr.address, cidr.prefix);
      const problem = hostAddressProblem(family, cidr.address, subnet);
      if (problem) out.push({ key: 'address', rule: `must be a host address of its subnet: ${problem}` });
      taken = (n) => n === cidr.address;
    }
  } else {
    const pool = parsePool(family, spec.pool as string);
    if (!pool)
      out.push({
        key: 'pool',
        rule: `must be FIRST-LAST/PREFIX, two ${family.name === 'ipv4' ? 'IPv4' : 'IPv6'} addresses and a prefix`,
      });
    else if (pool.first > pool.last) {
      out.push({
        key: 'pool',
        rule: `must run from a lower to a higher address (${family.format(pool.first)} > ${family.format(pool.last)})`,
      });
    } else {
      const poolSubnet = subnetOf(family, pool.first, pool.prefix);
      subnet = poolSubnet;
      const problem =
        hostAddressProblem(family, pool.first, poolSubnet) ??
        hostAddressProblem(family, pool.last, poolSubnet);
      if (problem) out.push({ key: 'pool', rule: `must hold host addresses of one subnet only: ${problem}` });
      else if (poolSize(pool) > BigInt(MAX_POOL_SIZE))
        out.push({
          key: 'pool',
          rule: `must hold at most ${MAX_POOL_SIZE} addresses (has ${poolSize(pool)})`,
        });
      taken = (n) => n >= pool.first && n <= pool.last;
    }
  }
  if (spec.gateway !== undefined) {
    const gateway = family.parse(spec.gateway);
    if (gateway === undefined) out.push({ key: 'gateway', rule: `must be ${text.address}` });
    else if (subnet) {
      const problem = hostAddressProblem(family, gateway, subnet);
      if (problem)
        out.push({ key: 'gateway', rule: `must be a host address of the NIC's subnet: ${problem}` });
      else if (taken(gateway))
        out.push({ key: 'gateway', rule: `must not be an address the nodes get (${spec.gateway})` });
    }
  }
  if (spec.dns !== undefined) {
    if (spec.dns.length > MAX_DNS_SERVERS)
      out.push({ key: 'dns', rule: `must list at most ${MAX_DNS_SERVERS} servers` });
    const bad = spec.dns.find((d) => family.parse(d) === undefined);
    if (bad !== undefined)
      out.push({
        key: 'dns',
        rule: `must list ${family.name === 'ipv4' ? 'IPv4' : 'IPv6'} addresses (got ${JSON.stringify(bad)})`,
      });
  }
  return out;
}
