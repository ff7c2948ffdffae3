import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BoundNetwork, ConfigDriveSpec, StaticAddress } from '@vmkit/core';
import { cloudInitNetworkConfig, openstackNetworkData } from '@vmkit/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, run, tempDir, xorrisoComplaints, xorrisoExtract } from '../../test-fixtures/tools.js';
import { buildConfigDrive } from './build-config-drive.js';

// The network documents vmkit writes for static addresses, on each drive layout, read back and
// rendered by cloud-init 22.4.2's own code (Debian 12's, the test guest's version) with the
// ifupdown renderer the guest uses: the address, netmask, gateway route and DNS land on the NIC
// found by MAC, the other NIC keeps DHCP.

const STATIC_MAC = '52:54:00:aa:bb:01';
const DHCP_MAC = '52:54:00:aa:bb:02';
const network: BoundNetwork = {
  nics: [
    { slot: 0, attachment: 'nat', mac: DHCP_MAC, portForwards: [] },
    { slot: 1, attachment: 'hostOnly', network: 'lab', mac: STATIC_MAC, portForwards: [] },
  ],
};
const statics: StaticAddress[] = [
  {
    slot: 1,
    mac: STATIC_MAC,
    family: 'ipv4',
    address: '192.168.77.21',
    prefix: 24,
    gateway: '192.168.77.1',
    dns: ['192.168.77.53'],
  },
  { slot: 1, mac: STATIC_MAC, family: 'ipv6', address: 'fd00:77::21', prefix: 64, gateway: 'fd00:77::1' },
];

/** /etc/network/interfaces as cloud-init renders the drive's network config (NICs by MAC). */
async function rendered(kind: 'nocloud' | 'openstack' | 'ovf', dir: string): Promise<string> {
  const { stdout } = await run('/usr/bin/python3', [
    join(FIXTURES, 'cloudinit_net.py'),
    kind,
    dir,
    `${DHCP_MAC}=ens3`,
    `${STATIC_MAC}=ens4`,
  ]);
  return stdout;
}

/** The stanza of one interface (its `iface` line and the indented lines after it). */
function stanza(text: string, name: string, family: 'inet' | 'inet6' = 'inet'): string {
  const m = new RegExp(`^iface ${name} ${family} \\S+\\n(?:    .*\\n)*`, 'm').exec(text);
  return m?.[0] ?? '';
}

describe('static addresses in config drives, as cloud-init 22.4 on Debian renders them (ifupdown)', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir('static-net');
  });
  afterAll(async () => tmp?.remove());

  const drive = async (spec: ConfigDriveSpec, name: string) => {
    const file = join(tmp.path, name);
    await writeFile(file, await buildConfigDrive(spec));
    const out = join(tmp.path, `${name}.d`);
    expect(xorrisoComplaints(await xorrisoExtract(file, out))).toEqual([]);
    return out;
  };

  it.each(['nocloud', 'ovf'] as const)(
    '%s: network-config v2 gives the static NIC its address, route and DNS',
    async (format) => {
      const config = cloudInitNetworkConfig(network, statics);
      const dir = await drive(
        { format, instanceId: `iid-${format}`, networkConfig: config },
        `${format}.iso`,
      );
      const text = await rendered(format, dir);
      // The v2 ids are vmkit's (nic<slot>); cloud-init names the device by MAC on the guest.
      const fixed = stanza(text, 'nic1');
      expect(fixed).toMatch(/^iface nic1 inet static$/m);
      expect(fixed).toMatch(/^ {4}address 192\.168\.77\.21\/24$/m);
      expect(fixed).toMatch(/^ {4}dns-nameservers 192\.168\.77\.53$/m);
      expect(fixed).toMatch(/^ {4}post-up route add default gw 192\.168\.77\.1 /m);
      expect(stanza(text, 'nic0')).toMatch(/^iface nic0 inet dhcp$/m);
      // IPv6 beside it: its address and gateway (gateway6: cloud-init 22.4 renders `to: ::/0` as ::/64).
      const v6 = stanza(text, 'nic1', 'inet6');
      expect(v6).toMatch(/^iface nic1 inet6 static$/m);
      expect(v6).toMatch(/^ {4}address fd00:77::21\/64$/m);
      expect(v6).toMatch(/^ {4}gateway fd00:77::1$/m);
      expect(text).not.toMatch(/::\/64 gw/);
    },
  );

  it('openstack: network_data.json links by MAC, an ipv4 network with netmask and route, dns in services', async () => {
    const data = openstackNetworkData(network, statics);
    const dir = await drive({ format: 'openstack', instanceId: 'iid-os', networkConfig: data }, 'os.iso');
    const text = await rendered('openstack', dir);
    const fixed = stanza(text, 'ens4');
    expect(fixed).toMatch(/^iface ens4 inet static$/m);
    expect(fixed).toMatch(/^ {4}address 192\.168\.77\.21\/24$/m);
    expect(fixed).toMatch(/^ {4}post-up route add default gw 192\.168\.77\.1 /m);
    expect(stanza(text, 'ens3')).toMatch(/^iface ens3 inet dhcp$/m);
    const v6 = stanza(text, 'ens4', 'inet6');
    expect(v6).toMatch(/^ {4}address fd00:77::21\/64$/m);
    expect(v6).toMatch(/^ {4}post-up route add -A inet6 default gw fd00:77::1 /m);
    expect(text).toMatch(/dns-nameservers 192\.168\.77\.53/);
  });
});
