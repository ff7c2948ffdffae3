import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import type { BoundNetwork, NetworkSpec, NicSpec, StaticAddress } from '../model/network-spec.js';
import type { LeaseClaim, PortAllocator } from '../ports/port-allocator.js';
import { IPV4, IPV6, type IpFamily, parseCidr, parsePool, poolAddresses, poolSize } from './ip-math.js';

/** The families a NIC may have static addresses of, in the order they are handled. */
const FAMILIES: readonly IpFamily[] = [IPV4, IPV6];

/**
 * The network a NIC's static address must be unique on: its network name, else its host
 * interface, and the family (an IPv6 lease never holds an IPv4 address's file).
 */
export function addressScope(
  nic: Pick<NicSpec, 'network' | 'hostInterface'>,
  family: IpFamily = IPV4,
): string {
  const where = nic.network !== undefined ? `network:${nic.network}` : `interface:${nic.hostInterface ?? ''}`;
  return family === IPV4 ? where : `${where}/${family.name}`;
}

/** Whether any NIC of `network` asks for a static address. */
export function hasStaticAddresses(network: NetworkSpec): boolean {
  return network.nics.some((nic) => nic.ipv4 !== undefined || nic.ipv6 !== undefined);
}

/** The addresses a NIC's `ipv4`/`ipv6` offers as text, in order, the prefix they share and the pool's size. */
function offered(
  family: IpFamily,
  nic: NicSpec,
): { addresses: () => Iterable<string>; prefix: number; size: number } | undefined {
  const spec = nic[family.name];
  if (spec?.address !== undefined) {
    const cidr = parseCidr(family, spec.address);
    return cidr && { addresses: () => [family.format(cidr.address)], prefix: cidr.prefix, size: 1 };
  }
  const pool = spec?.pool === undefined ? undefined : parsePool(family, spec.pool);
  return (
    pool && {
      addresses: () => poolAddresses(family, pool),
      prefix: pool.prefix,
      size: Number(poolSize(pool)),
    }
  );
}

/**
 * Checks, before anything is made, that a group of `count` nodes can each get its own address on
 * every NIC with `ipv4` or `ipv6` (the spec itself was validated): a single `address` serves one
 * node only; a pool must hold `count` addresses that no lease holds now (`INVALID_ARGUMENT` naming
 * the pool otherwise); a single address another node holds is a `CONFLICT`.
 */
export async function checkGroupAddresses(
  network: NetworkSpec,
  count: number,
  ports: PortAllocator,
  host: string | undefined,
): Promise<void> {
  for (const [i, nic] of network.nics.entries()) {
    for (const family of FAMILIES) {
      const spec = nic[family.name];
      const choice = offered(family, nic);
      if (spec === undefined || !choice) continue;
      const field = `network.nics[${i}].${family.name}`;
      const free = await ports.freeAddresses(addressScope(nic, family), choice.addresses(), host);
      if (spec.address !== undefined) {
        if (count > 1) {
          throw invalidArgument(
            `${field}.address`,
            `is one address for ${count} nodes: no address may be used twice in a group (give a pool)`,
          );
        }
        if (free.length === 0)
          throw new VmkitError('CONFLICT', `${field}.address: ${spec.address} is held by another node`, {
            details: { field: `${field}.address` },
          });
        continue;
      }
      if (choice.size < count) {
        throw invalidArgument(
          `${field}.pool`,
          `holds ${choice.size} addresses, fewer than the ${count} nodes asked for`,
        );
      }
      if (free.length < count) {
        throw invalidArgument(
          `${field}.pool`,
          `is exhausted: ${free.length} of its ${choice.size} addresses are free and ${count} are needed ` +
            '(the others are leased to nodes until those are destroyed)',
          { free: free.length, size: choice.size, needed: count },
        );
      }
    }
  }
}

/**
 * Leases the static addresses of every NIC with `ipv4` or `ipv6` for one creation attempt of a
 * node (pending leases of `claim`, committed and released with its ports), and says what each NIC
 * got.
 */
export async function bindStaticAddresses(
  network: NetworkSpec,
  bound: BoundNetwork,
  claim: LeaseClaim,
  ports: PortAllocator,
): Promise<StaticAddress[]> {
  const out: StaticAddress[] = [];
  for (const [i, nic] of network.nics.entries()) {
    const boundNic = bound.nics[i];
    for (const family of FAMILIES) {
      const spec = nic[family.name];
      const choice = offered(family, nic);
      if (spec === undefined || !choice || !boundNic) continue;
      const address = await ports.leaseAddress(claim, addressScope(nic, family), choice.addresses());
      if (address === undefined) {
        const field = `network.nics[${i}].${family.name}`;
        if (spec.pool !== undefined)
          throw invalidArgument(
            `${field}.pool`,
            'is exhausted: every one of its addresses is leased to a node',
          );
        throw new VmkitError('CONFLICT', `${field}.address: ${spec.address} is held by another node`, {
          details: { field: `${field}.address` },
        });
      }
      out.push({
        slot: boundNic.slot,
        mac: boundNic.mac,
        family: family.name,
        address,
        prefix: choice.prefix,
        ...(spec.gateway !== undefined ? { gateway: spec.gateway } : {}),
        ...(spec.dns?.length ? { dns: [...spec.dns] } : {}),
      });
    }
  }
  return out;
}
