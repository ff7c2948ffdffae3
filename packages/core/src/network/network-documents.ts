import type { ConfigDriveFormat } from '../model/config-drive-spec.js';
import type { BoundNetwork, StaticAddress } from '../model/network-spec.js';
import { familyOf, netmaskOf } from './ip-math.js';

/**
 * cloud-init network config version 2 for a node: one `ethernets` entry per NIC (`nic<slot>`)
 * matched by its MAC, with its static addresses, its DNS servers and the default routes: IPv4 as
 * `routes: [{to: 0.0.0.0/0, via}]` (cloud-init before 25.3 refuses `to: default` outside netplan;
 * `gateway4` is deprecated), IPv6 as `gateway6` (cloud-init 22.4's ifupdown renderer turns
 * `to: ::/0` into a route to `::/64`). A NIC keeps DHCPv4 unless it has a static IPv4 address. What NoCloud's `network-config` file and the OVF environment's
 * `network-config` property carry.
 */
export function cloudInitNetworkConfig(
  network: BoundNetwork,
  statics: readonly StaticAddress[],
): Record<string, unknown> {
  const ethernets: Record<string, unknown> = {};
  for (const nic of network.nics) {
    const mine = statics.filter((x) => x.slot === nic.slot);
    const v4 = mine.find((s) => s.family === 'ipv4')?.gateway;
    const v6 = mine.find((s) => s.family === 'ipv6')?.gateway;
    const dns = [...new Set(mine.flatMap((s) => s.dns ?? []))];
    ethernets[`nic${nic.slot}`] = {
      match: { macaddress: nic.mac },
      dhcp4: !mine.some((s) => s.family === 'ipv4'),
      ...(mine.length > 0 ? { addresses: mine.map((s) => `${s.address}/${s.prefix}`) } : {}),
      ...(v4 !== undefined ? { routes: [{ to: '0.0.0.0/0', via: v4 }] } : {}),
      ...(v6 !== undefined ? { gateway6: v6 } : {}),
      ...(dns.length > 0 ? { nameservers: { addresses: dns } } : {}),
    };
  }
  return { version: 2, ethernets };
}

/**
 * OpenStack `network_data.json` for a node (Nova's schema): a `phy` link per NIC with its MAC
 * (cloud-init finds the NIC by it); per static address an `ipv4` or `ipv6` network with
 * `ip_address`, the netmask as an address and a default route through the gateway; `ipv4_dhcp`
 * for a NIC without a static IPv4 address; the DNS servers as top-level `services` (cloud-init
 * 22.4 reads DNS only from there).
 */
export function openstackNetworkData(
  network: BoundNetwork,
  statics: readonly StaticAddress[],
): Record<string, unknown> {
  const links = network.nics.map((nic) => ({
    id: `nic${nic.slot}`,
    type: 'phy',
    ethernet_mac_address: nic.mac,
  }));
  const networks = network.nics.flatMap((nic) => {
    const mine = statics.filter((x) => x.slot === nic.slot);
    const base = (suffix: string) => ({
      id: `network${nic.slot}${suffix}`,
      link: `nic${nic.slot}`,
      network_id: `vmkit-nic${nic.slot}${suffix}`,
    });
    const dhcp = mine.some((s) => s.family === 'ipv4') ? [] : [{ ...base(''), type: 'ipv4_dhcp' }];
    return [
      ...dhcp,
      ...mine.map((s) => {
        const family = familyOf(s.family);
        const any = netmaskOf(family, 0);
        return {
          ...base(s.family === 'ipv4' ? '' : '-v6'),
          type: s.family,
          ip_address: s.address,
          netmask: netmaskOf(family, s.prefix),
          routes: s.gateway === undefined ? [] : [{ network: any, netmask: any, gateway: s.gateway }],
        };
      }),
    ];
  });
  const dns = [...new Set(statics.flatMap((s) => s.dns ?? []))];
  return { links, networks, services: dns.map((address) => ({ type: 'dns', address })) };
}

/** The network document a config drive of `format` carries for these static addresses. */
export function staticNetworkConfig(
  format: ConfigDriveFormat,
  network: BoundNetwork,
  statics: readonly StaticAddress[],
): Record<string, unknown> {
  return format === 'openstack'
    ? openstackNetworkData(network, statics)
    : cloudInitNetworkConfig(network, statics);
}
