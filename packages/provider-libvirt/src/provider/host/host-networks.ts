import type { BoundNic } from '@vmkit/core/spi';
import { invalidArgument, VmkitError } from '@vmkit/core/spi';
import type { LibvirtContext } from '../libvirt-context.js';
import { xmlEscape } from '../xml/xml-text.js';

/** The libvirt network a host-only or internal NIC joins (its own, or vmkit's default one). */
export function networkNameFor(nic: BoundNic, prefix: string): string {
  return nic.network ?? `${prefix}${nic.attachment === 'hostOnly' ? 'hostonly' : 'internal'}`;
}

/** XML of an isolated network: with a host address and DHCP for `hostOnly`, without for `internal`. */
export function isolatedNetworkXml(name: string, kind: 'hostOnly' | 'internal'): string {
  if (kind === 'internal') return `<network><name>${xmlEscape(name)}</name></network>`;
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const subnet = 100 + (h % 100);
  return (
    `<network><name>${xmlEscape(name)}</name><ip address='192.168.${subnet}.1' netmask='255.255.255.0'>` +
    `<dhcp><range start='192.168.${subnet}.100' end='192.168.${subnet}.200'/></dhcp></ip></network>`
  );
}

/**
 * Makes sure the libvirt networks of a node's host-only and internal NICs exist and run: a missing
 * one is defined as an isolated network and started. Returns the NICs with their network names.
 */
export async function ensureNicNetworks(ctx: LibvirtContext, nics: readonly BoundNic[]): Promise<BoundNic[]> {
  const out: BoundNic[] = [];
  for (const nic of nics) {
    if (nic.attachment !== 'hostOnly' && nic.attachment !== 'internal') {
      if (nic.attachment === 'bridged' && !nic.hostInterface) {
        throw invalidArgument('hostInterface', `NIC ${nic.slot} is bridged and needs a host bridge`, {
          slot: nic.slot,
        });
      }
      out.push(nic);
      continue;
    }
    const name = networkNameFor(nic, ctx.options.namePrefix);
    const nets = ctx.client.networks;
    let net: Awaited<ReturnType<typeof nets.lookupByName>>;
    try {
      net = await nets.lookupByName(name);
    } catch (error) {
      if (!VmkitError.is(error, 'NOT_FOUND')) throw error;
      net = await nets.defineXml(isolatedNetworkXml(name, nic.attachment));
    }
    if (!(await nets.isActive(net))) await nets.create(net);
    out.push({ ...nic, network: name });
  }
  return out;
}
