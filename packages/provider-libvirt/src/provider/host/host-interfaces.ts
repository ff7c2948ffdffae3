import type { BoundNic, HostNetwork } from '@vmkit/core/spi';
import { invalidArgument } from '@vmkit/core/spi';
import { LIST_INTERFACES_ACTIVE } from '../../client/interface-procedures.js';
import type { LibvirtClient } from '../../client/libvirt-client.js';
import { parseXml } from '../xml/xml-text.js';

/**
 * The host's bridges and network interfaces, as libvirt's interface driver reports them (its udev
 * backend on Debian's libvirt 9.0, which needs neither netcf nor systemd). Loopback is left out:
 * no NIC can use it. Bridges are `bridge`; other interfaces are `interface` (a bridged NIC needs a
 * bridge, so one of these must first be enslaved to a bridge).
 */
export async function listLibvirtHostInterfaces(client: LibvirtClient): Promise<HostNetwork[]> {
  const [all, active] = await Promise.all([
    client.interfaces.listAll(),
    client.interfaces.listAll(LIST_INTERFACES_ACTIVE),
  ]);
  const up = new Set(active.map((i) => i.name));
  const out: HostNetwork[] = [];
  for (const iface of all) {
    // The shared parser reads `interface` elements as arrays (a domain has several).
    const doc = parseXml(await client.interfaces.getXmlDesc(iface)) as {
      interface?: Array<{ '@type'?: string }>;
    };
    const type = doc.interface?.[0]?.['@type'];
    if (iface.name === 'lo' || type === undefined) continue;
    out.push({ name: iface.name, kind: type === 'bridge' ? 'bridge' : 'interface', up: up.has(iface.name) });
  }
  return out;
}

/**
 * Checks, before anything of a node is created, that each bridged NIC names a bridge the host
 * has: `INVALID_ARGUMENT` naming `network.nics[i].hostInterface` otherwise (a missing bridge
 * would only fail when QEMU starts, after the disks and domain were made).
 */
export async function assertHostBridges(client: LibvirtClient, nics: readonly BoundNic[]): Promise<void> {
  const bridged = nics.map((nic, i) => ({ nic, i })).filter(({ nic }) => nic.attachment === 'bridged');
  if (bridged.length === 0) return;
  const host = await listLibvirtHostInterfaces(client);
  const bridges = host.filter((n) => n.kind === 'bridge').map((n) => n.name);
  for (const { nic, i } of bridged) {
    const name = nic.hostInterface;
    if (name === undefined) continue; // refused with its own message by ensureNicNetworks
    if (bridges.includes(name)) continue;
    const other = host.some((n) => n.name === name);
    throw invalidArgument(
      `network.nics[${i}].hostInterface`,
      other
        ? `${name} is a host interface but not a bridge: bridged NICs join a bridge (have: ${bridges.join(', ') || 'none'})`
        : `must name a bridge of the host; ${name} does not exist (have: ${bridges.join(', ') || 'none'})`,
      { hostInterface: name },
    );
  }
}
