import type { HostNetwork } from '@vmkit/core/spi';
import type { LibvirtClient } from '../../client/libvirt-client.js';
import { parseXml } from '../xml/xml-text.js';
import { listLibvirtHostInterfaces } from './host-interfaces.js';

/**
 * The host's libvirt networks as NICs can use them (NAT, bridge, host-only or internal, up or
 * not), then the host's own bridges and interfaces (see {@link listLibvirtHostInterfaces}).
 */
export async function listLibvirtHostNetworks(client: LibvirtClient): Promise<readonly HostNetwork[]> {
  const nets = await client.networks.listAll();
  const out: HostNetwork[] = [];
  for (const net of nets) {
    const doc = parseXml(await client.networks.getXmlDesc(net)) as {
      network?: {
        forward?: { '@mode'?: string } | string;
        ip?: { '@address'?: string; '@prefix'?: string; '@netmask'?: string };
      };
    };
    const fwd = doc.network?.forward;
    const mode = typeof fwd === 'object' ? (fwd['@mode'] ?? 'nat') : fwd === undefined ? undefined : 'nat';
    const ip = doc.network?.ip?.['@address'];
    const kind: HostNetwork['kind'] =
      mode === 'nat' || mode === 'route'
        ? 'nat'
        : mode === 'bridge'
          ? 'bridge'
          : ip
            ? 'hostOnly'
            : 'internal';
    out.push({
      name: net.name,
      kind,
      up: await client.networks.isActive(net),
      ...(ip ? { addresses: [ip] } : {}),
    });
  }
  return [...out, ...(await listLibvirtHostInterfaces(client))];
}
