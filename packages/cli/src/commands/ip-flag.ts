import type { NicIpv4Spec, NicSpec } from '@vmkit/core';
import { InvalidArgumentError } from 'commander';

/** The rule `--ip` states in its errors. */
export const IP_FLAG_RULE =
  'must be NETWORK=ADDRESS/PREFIX or NETWORK=FIRST-LAST/PREFIX, then optionally ,gateway=IP and ,dns=IP[+IP...] ' +
  '(e.g. lab=192.168.50.10-192.168.50.19/24,gateway=192.168.50.1)';

/** One `--ip` value: a host-only NIC on `network` with a static IPv4 address or pool. */
export interface IpFlag {
  /** The hypervisor's network name (libvirt network, VirtualBox host-only network). */
  readonly network: string;
  /** The address or pool, gateway and DNS servers (checked by core with the template). */
  readonly ipv4: NicIpv4Spec;
}

/**
 * Parses one `--ip` value (`lab=192.168.50.10/24`, `lab=192.168.50.10-192.168.50.19/24,gateway=192.168.50.1,dns=1.1.1.1+9.9.9.9`)
 * and appends it to the ones before. A pool (`FIRST-LAST/PREFIX`) gives each node its own address;
 * the address rules themselves are core's (INVALID_ARGUMENT naming `network.nics[i].ipv4...`).
 */
export function parseIpFlag(text: string, previous: readonly IpFlag[] = []): IpFlag[] {
  const [head, ...extras] = text.trim().split(',');
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,62})=(\S+)$/.exec(head ?? '');
  if (!m) throw new InvalidArgumentError(IP_FLAG_RULE);
  const [, network, value] = m as unknown as [string, string, string];
  let ipv4: NicIpv4Spec = value.includes('-') ? { pool: value } : { address: value };
  for (const extra of extras) {
    const [key, v] = extra.split('=', 2);
    if (key === 'gateway' && v) ipv4 = { ...ipv4, gateway: v };
    else if (key === 'dns' && v) ipv4 = { ...ipv4, dns: v.split('+') };
    else throw new InvalidArgumentError(IP_FLAG_RULE);
  }
  if (previous.some((p) => p.network === network))
    throw new InvalidArgumentError(`gives network ${network} twice`);
  return [...previous, { network, ipv4 }];
}

/**
 * The NICs `up` asks for: the NAT NIC (with the `-p` forwards it carries, if any) first, then one
 * host-only NIC per `--ip`.
 */
export function withIpNics(
  nat: { inboundPorts?: number[]; network?: { nics: readonly NicSpec[] } },
  flags: readonly IpFlag[],
): { inboundPorts?: number[]; network?: { nics: NicSpec[] } } {
  if (flags.length === 0) return nat as { inboundPorts?: number[]; network?: { nics: NicSpec[] } };
  const natNic: NicSpec = nat.network?.nics[0] ?? { attachment: 'nat' };
  const nics: NicSpec[] = [
    natNic,
    ...flags.map((f): NicSpec => ({ attachment: 'hostOnly', network: f.network, ipv4: f.ipv4 })),
  ];
  return { ...(nat.inboundPorts ? { inboundPorts: nat.inboundPorts } : {}), network: { nics } };
}
