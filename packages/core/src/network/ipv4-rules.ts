import type { NicAttachment, NicIpv4Spec } from '../model/network-spec.js';
import {
  hostAddressProblem,
  type Ipv4Subnet,
  ipv4ToNumber,
  numberToIpv4,
  parseIpv4Cidr,
  parseIpv4Pool,
  subnetOf,
} from './ipv4.js';

/** One broken rule of a NIC's `ipv4`: the key under `ipv4` it is about and the rule. */
export interface Ipv4Problem {
  /** The key (`address`, `pool`, `gateway`, `dns`), or absent for `ipv4` itself. */
  readonly key?: 'address' | 'pool' | 'gateway' | 'dns';
  /** The rule, as a sentence fragment after the field's name. */
  readonly rule: string;
}

/** At most this many addresses in a pool (its leases are looked through address by address). */
export const MAX_POOL_SIZE = 65536;

/** At most this many DNS servers (what resolv.conf and the guests' tools take). */
export const MAX_DNS_SERVERS = 3;

/**
 * The rules a NIC's `ipv4` breaks: exactly one of `address` and `pool`; an address `a.b.c.d/len`
 * that is a host of its subnet (not its network or broadcast address); a pool `FIRST-LAST/PREFIX`
 * whose ends lie in one subnet, in order, neither its network nor broadcast address; a gateway
 * inside that subnet, not the node's address nor one of the pool's; DNS servers that are IPv4
 * addresses. NAT NICs take none: on both providers a NAT NIC is the hypervisor's private
 * user-mode network (QEMU's slirp, VirtualBox's NAT engine, 10.0.2.0/24), whose own DHCP gives the
 * guest 10.0.2.15, the address its port forwards lead to.
 */
export function ipv4Problems(ipv4: NicIpv4Spec, attachment: NicAttachment): Ipv4Problem[] {
  if (attachment === 'nat') {
    return [
      {
        rule:
          "NAT NICs take no static address: the hypervisor's NAT (10.0.2.0/24) gives the guest its address by DHCP " +
          'and forwards ports to it; use a hostOnly, internal or bridged NIC',
      },
    ];
  }
  const out: Ipv4Problem[] = [];
  let subnet: Ipv4Subnet | undefined;
  let taken: (n: number) => boolean = () => false;
  if ((ipv4.address === undefined) === (ipv4.pool === undefined)) {
    out.push({ rule: 'needs exactly one of address and pool' });
  } else if (ipv4.address !== undefined) {
    const cidr = parseIpv4Cidr(ipv4.address);
    if (!cidr) out.push({ key: 'address', rule: 'must be an IPv4 address with its prefix, a.b.c.d/1-32' });
    else {
      subnet = subnetOf(cidr.address, cidr.prefix);
      const problem = hostAddressProblem(cidr.address, subnet);
      if (problem) out.push({ key: 'address', rule: `must be a host address of its subnet: ${problem}` });
      taken = (n) => n === cidr.address;
    }
  } else {
    const pool = parseIpv4Pool(ipv4.pool as string);
    if (!pool) out.push({ key: 'pool', rule: 'must be FIRST-LAST/PREFIX, two IPv4 addresses and 1-32' });
    else if (pool.first > pool.last) {
      out.push({
        key: 'pool',
        rule: `must run from a lower to a higher address (${numberToIpv4(pool.first)} > ${numberToIpv4(pool.last)})`,
      });
    } else {
      subnet = subnetOf(pool.first, pool.prefix);
      const problem =
        hostAddressProblem(pool.first, subnet) ?? hostAddressProblem(pool.last, subnet as Ipv4Subnet);
      if (problem) out.push({ key: 'pool', rule: `must hold host addresses of one subnet only: ${problem}` });
      else if (pool.last - pool.first + 1 > MAX_POOL_SIZE)
        out.push({
          key: 'pool',
          rule: `must hold at most ${MAX_POOL_SIZE} addresses (has ${pool.last - pool.first + 1})`,
        });
      taken = (n) => n >= pool.first && n <= pool.last;
    }
  }
  if (ipv4.gateway !== undefined) {
    const gateway = ipv4ToNumber(ipv4.gateway);
    if (gateway === undefined) out.push({ key: 'gateway', rule: 'must be an IPv4 address a.b.c.d' });
    else if (subnet) {
      const problem = hostAddressProblem(gateway, subnet);
      if (problem)
        out.push({ key: 'gateway', rule: `must be a host address of the NIC's subnet: ${problem}` });
      else if (taken(gateway))
        out.push({ key: 'gateway', rule: `must not be an address the nodes get (${ipv4.gateway})` });
    }
  }
  if (ipv4.dns !== undefined) {
    if (ipv4.dns.length > MAX_DNS_SERVERS)
      out.push({ key: 'dns', rule: `must list at most ${MAX_DNS_SERVERS} servers` });
    const bad = ipv4.dns.find((d) => ipv4ToNumber(d) === undefined);
    if (bad !== undefined)
      out.push({ key: 'dns', rule: `must list IPv4 addresses (got ${JSON.stringify(bad)})` });
  }
  return out;
}
