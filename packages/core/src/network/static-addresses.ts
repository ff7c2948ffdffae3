import { invalidArgument, VmkitError } from '../errors/vmkit-error.js';
import type { BoundNetwork, NetworkSpec, NicSpec, StaticIpv4 } from '../model/network-spec.js';
import type { LeaseClaim, PortAllocator } from '../ports/port-allocator.js';
import { parseIpv4Cidr, parseIpv4Pool, poolAddresses, poolSize } from './ipv4.js';

/** The network a NIC's static address must be unique on: its network name, else its host interface. */
export function addressScope(nic: Pick<NicSpec, 'network' | 'hostInterface'>): string {
  return nic.network !== undefined ? `network:${nic.network}` : `interface:${nic.hostInterface ?? ''}`;
}

/** Whether any NIC of `network` asks for a static address. */
export function hasStaticAddresses(network: NetworkSpec): boolean {
  return network.nics.some((nic) => nic.ipv4 !== undefined);
}

/** The addresses a NIC's `ipv4` offers, dotted, in order, and the prefix they share. */
function offered(nic: NicSpec): { addresses: string[]; prefix: number } | undefined {
  const ipv4 = nic.ipv4;
  if (ipv4?.address !== undefined) {
    const cidr = parseIpv4Cidr(ipv4.address);
    return cidr && { addresses: [ipv4.address.split('/')[0] as string], prefix: cidr.prefix };
  }
  const pool = ipv4?.pool === undefined ? undefined : parseIpv4Pool(ipv4.pool);
  return pool && { addresses: [...poolAddresses(pool)], prefix: pool.prefix };
}

/**
 * Checks, before anything is made, that a group of `count` nodes can each get its own address on
 * every NIC with `ipv4` (the spec itself was validated): a single `address` serves one node only;
 * a pool must hold `count` addresses that no lease holds now (`INVALID_ARGUMENT` naming the pool
 * otherwise); a single address another node holds is a `CONFLICT`.
 */
export async function checkGroupAddresses(
  network: NetworkSpec,
  count: number,
  ports: PortAllocator,
  host: string | undefined,
): Promise<void> {
  for (const [i, nic] of network.nics.entries()) {
    const ipv4 = nic.ipv4;
    if (ipv4 === undefined) continue;
    const field = `network.nics[${i}].ipv4`;
    const scope = addressScope(nic);
    if (ipv4.address !== undefined) {
      if (count > 1) {
        throw invalidArgument(
          `${field}.address`,
          `is one address for ${count} nodes: no address may be used twice in a group (give a pool)`,
        );
      }
      const [free] = await ports.freeAddresses(scope, offered(nic)?.addresses ?? [], host);
      if (free === undefined)
        throw new VmkitError(
          'CONFLICT',
          `${field}.address: ${ipv4.address} is held by another node on ${scope}`,
          {
            details: { field: `${field}.address` },
          },
        );
      continue;
    }
    const pool = parseIpv4Pool(ipv4.pool as string);
    if (!pool) continue;
    const size = poolSize(pool);
    if (size < count)
      throw invalidArgument(
        `${field}.pool`,
        `holds ${size} addresses, fewer than the ${count} nodes asked for`,
      );
    const free = await ports.freeAddresses(scope, poolAddresses(pool), host);
    if (free.length < count) {
      throw invalidArgument(
        `${field}.pool`,
        `is exhausted: ${free.length} of its ${size} addresses are free and ${count} are needed ` +
          '(the others are leased to nodes until those are destroyed)',
        { free: free.length, size, needed: count },
      );
    }
  }
}

/**
 * Leases the static address of every NIC with `ipv4` for one creation attempt of a node (pending
 * leases of `claim`, committed and released with its ports), and says what each NIC got.
 */
export async function bindStaticAddresses(
  network: NetworkSpec,
  bound: BoundNetwork,
  claim: LeaseClaim,
  ports: PortAllocator,
): Promise<StaticIpv4[]> {
  const out: StaticIpv4[] = [];
  for (const [i, nic] of network.nics.entries()) {
    const ipv4 = nic.ipv4;
    const choice = offered(nic);
    const boundNic = bound.nics[i];
    if (ipv4 === undefined || !choice || !boundNic) continue;
    const address = await ports.leaseAddress(claim, addressScope(nic), choice.addresses);
    if (address === undefined) {
      const field = `network.nics[${i}].ipv4`;
      if (ipv4.pool !== undefined)
        throw invalidArgument(
          `${field}.pool`,
          `is exhausted: every one of its addresses is leased to a node`,
        );
      throw new VmkitError('CONFLICT', `${field}.address: ${ipv4.address} is held by another node`, {
        details: { field: `${field}.address` },
      });
    }
    out.push({
      slot: boundNic.slot,
      mac: boundNic.mac,
      address,
      prefix: choice.prefix,
      ...(ipv4.gateway !== undefined ? { gateway: ipv4.gateway } : {}),
      ...(ipv4.dns?.length ? { dns: [...ipv4.dns] } : {}),
    });
  }
  return out;
}
