import type { ConfigDriveFormat } from '../model/config-drive-spec.js';
import type { BoundNetwork, StaticIpv4 } from '../model/network-spec.js';
import { prefixToNetmask } from './ipv4.js';

/**
 * cloud-init network config version 2 for a node: one `ethernets` entry per NIC (`nic<slot>`)
 * matched by its MAC, with its static address, a default route `to: 0.0.0.0/0` through the
 * gateway (cloud-init before 25.3 refuses `to: default` outside netplan; `gateway4` is
 * deprecated) and its DNS servers; NICs without a static address keep DHCP. What NoCloud's
 * `network-config` file and the OVF environment's `network-config` property carry.
 */
export function cloudInitNetworkConfig(
  network: BoundNetwork,
  statics: readonly StaticIpv4[],
): Record<string, unknown> {
  const ethernets: Record<string, unknown> = {};
  for (const nic of network.nics) {
    const s = statics.find((x) => x.slot === nic.slot);
    ethernets[`nic${nic.slot}`] = {
      match: { macaddress: nic.mac },
      ...(s
        ? {
            dhcp4: false,
            addresses: [`${s.address}/${s.prefix}`],
            ...(s.gateway !== undefined ? { routes: [{ to: '0.0.0.0/0', via: s.gateway }] } : {}),
            ...(s.dns?.length ? { nameservers: { addresses: [...s.dns] } } : {}),
          }
        : { dhcp4: true }),
    };
  }
  return { version: 2, ethernets };
}

/**
 * OpenStack `network_data.json` for a node (Nova's schema): a `phy` link per NIC with its MAC
 * (cloud-init finds the NIC by it), an `ipv4` network with `ip_address`, dotted `netmask` and a
 * default route through the gateway for a static NIC or `ipv4_dhcp` for the others, and the DNS
 * servers as top-level `services` (cloud-init 22.4 reads DNS only from there).
 */
export function openstackNetworkData(
  network: BoundNetwork,
  statics: readonly StaticIpv4[],
): Record<string, unknown> {
  const links = network.nics.map((nic) => ({
    id: `nic${nic.slot}`,
    type: 'phy',
    ethernet_mac_address: nic.mac,
  }));
  const networks = network.nics.map((nic) => {
    const s = statics.find((x) => x.slot === nic.slot);
    const base = { id: `network${nic.slot}`, link: `nic${nic.slot}`, network_id: `vmkit-nic${nic.slot}` };
    if (!s) return { ...base, type: 'ipv4_dhcp' };
    return {
      ...base,
      type: 'ipv4',
      ip_address: s.address,
      netmask: prefixToNetmask(s.prefix),
      routes: s.gateway === undefined ? [] : [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: s.gateway }],
    };
  });
  const dns = [...new Set(statics.flatMap((s) => s.dns ?? []))];
  return { links, networks, services: dns.map((address) => ({ type: 'dns', address })) };
}

/** The network document a config drive of `format` carries for these static addresses. */
export function staticNetworkConfig(
  format: ConfigDriveFormat,
  network: BoundNetwork,
  statics: readonly StaticIpv4[],
): Record<string, unknown> {
  return format === 'openstack'
    ? openstackNetworkData(network, statics)
    : cloudInitNetworkConfig(network, statics);
}
