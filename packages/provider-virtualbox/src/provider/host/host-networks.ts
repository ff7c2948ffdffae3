import type { HostNetwork } from '@vmkit/core/spi';
import type { VboxApi } from '../../soap/connection.js';

function prefixLength(mask: string): number {
  return mask
    .split('.')
    .reduce((n, part) => n + (Number(part) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

/** The host's interfaces (`IHost.getNetworkInterfaces`: bridged and host-only) and VirtualBox's NAT. */
export async function listVboxHostNetworks(api: VboxApi): Promise<HostNetwork[]> {
  const host = await api.vbox.getHost();
  const out: HostNetwork[] = [{ name: 'NAT', kind: 'nat', up: true }];
  for (const nic of await host.getNetworkInterfaces()) {
    const [name, type, status, ip, mask] = await Promise.all([
      nic.getName(),
      nic.getInterfaceType(),
      nic.getStatus(),
      nic.getIPAddress(),
      nic.getNetworkMask(),
    ]);
    out.push({
      name,
      kind: String(type) === 'HostOnly' ? 'hostOnly' : 'bridge',
      up: String(status) === 'Up',
      ...(ip ? { addresses: [`${ip}/${prefixLength(mask)}`] } : {}),
    });
  }
  return out;
}
