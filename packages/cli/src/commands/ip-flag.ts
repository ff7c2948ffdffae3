import type { NicIpSpec, NicSpec } from '@vmkit/core';
import { InvalidArgumentError } from 'commander';

/** The rule `--ip` states in its errors. */
export const IP_FLAG_RULE =
  'must be NETWORK=ADDRESS/PREFIX or NETWORK=FIRST-LAST/PREFIX, then optionally ,gateway=IP and ,dns=IP[+IP...] ' +
  '(e.g. lab=192.168.50.10-192.168.50.19/24,gateway=192.168.50.1 or lab=fd00::10-fd00::1f/64)';

/** One `--ip` value: a static IPv4 or IPv6 address or pool on the host-only NIC of `network`. */
export interface IpFlag {
  /** The hypervisor's network name (libvirt network, VirtualBox host-only network). */
  readonly network: string;
  /** `ipv6` when the address has a colon, else `ipv4`. */
  readonly family: 'ipv4' | 'ipv6';
  /** The address or pool, gateway and DNS servers (checked by core with the template). */
  readonly spec: NicIpSpec;
}

/**
 * Parses one `--ip` value (`lab=192.168.50.10/24`,
 * `lab=192.168.50.10-192.168.50.19/24,gateway=192.168.50.1,dns=1.1.1.1+9.9.9.9`, `lab=fd00::10/64`)
 * and appends it to the ones before. A pool (`FIRST-LAST/PREFIX`) gives each node its own address;
 * an IPv4 and an IPv6 value for one network go on one NIC. The address rules themselves are
 * core's (INVALID_ARGUMENT naming `network.nics[i].ipv4...` or `.ipv6...`).
 */
export function parseIpFlag(text: string, previous: readonly IpFlag[] = []): IpFlag[] {
  const [head, ...extras] = text.trim().split(',');
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,62})=(\S+)$/.exec(head ?? '');
  if (!m) throw new InvalidArgumentError(IP_FLAG_RULE);
  const [, network, value] = m as unknown as [string, string, string];
  let spec: NicIpSpec = value.includes('-') ? { pool: value } : { address: value };
  for (const extra of extras) {
    const [key, v] = extra.split('=', 2);
    if (key === 'gateway' && v) spec = { ...spec, gateway: v };
    else if (key === 'dns' && v) spec = { ...spec, dns: v.split('+') };
    else throw new InvalidArgumentError(IP_FLAG_RULE);
  }
  const family = value.includes(':') ? 'ipv6' : 'ipv4';
  if (previous.some((p) => p.network === network && p.family === family))
    throw new InvalidArgumentError(
      `gives network ${network} two ${family === 'ipv4' ? 'IPv4' : 'IPv6'} values`,
    );
  return [...previous, { network, family, spec }];
}

/**
 * The NICs `up` asks for: the NAT NIC (with the `-p` forwards it carries, if any) first, then one
 * host-only NIC per network named by `--ip`, in the order first named.
 */
export function withIpNics(
  nat: { inboundPorts?: number[]; network?: { nics: readonly NicSpec[] } },
  flags: readonly IpFlag[],
): { inboundPorts?: number[]; network?: { nics: NicSpec[] } } {
  if (flags.length === 0) return nat as { inboundPorts?: number[]; network?: { nics: NicSpec[] } };
  const natNic: NicSpec = nat.network?.nics[0] ?? { attachment: 'nat' };
  const byNetwork = new Map<string, NicSpec>();
  for (const f of flags) {
    const nic = byNetwork.get(f.network) ?? { attachment: 'hostOnly', network: f.network };
    byNetwork.set(f.network, { ...nic, [f.family]: f.spec });
  }
  const nics: NicSpec[] = [natNic, ...byNetwork.values()];
  return { ...(nat.inboundPorts ? { inboundPorts: nat.inboundPorts } : {}), network: { nics } };
}
