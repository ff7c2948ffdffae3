import { expect, it } from 'vitest';
import type { BoundNetwork, BoundNic, StaticAddress } from '../model/network-spec.js';
import { staticNetworkConfig } from '../network/network-documents.js';
import type { FirmwareSubject } from './firmware-contract.js';

/** What the static address checks of the provider contract read from the running suite. */
export interface StaticAddressSubject
  extends Pick<FirmwareSubject, 'provider' | 'run' | 'made' | 'cloneSpec' | 'listReal'> {
  /** Whether the hypervisor takes config drives (else the NICs are checked without one). */
  readonly configDrives: boolean;
}

/**
 * Registers the contract's check of static addresses. Core writes them into the config drive,
 * matched to the guest's NICs by MAC (cloud-init `network-config` v2, `network_data.json`, the OVF
 * `network-config` property), so a provider must give each NIC exactly the MAC of the
 * `BoundNetwork` and attach the drive whatever network document it carries: for every config
 * drive format the provider lists, a node with a NAT NIC and a second, internal or host-only NIC
 * whose drive gives that one a static address is made with both MACs as given, lists them, and
 * is removed without a trace (a hypervisor that takes no config drive: the NICs alone).
 */
export function itCarriesStaticAddresses(get: () => StaticAddressSubject): void {
  it('keeps the MACs a static network config names, on every config drive format it lists; destroy leaves nothing', async () => {
    const s = get();
    const caps = await s.provider.capabilities();
    const attachment = (['internal', 'hostOnly'] as const).find((a) => caps.attachments.includes(a));
    expect(attachment, 'a provider lists an internal or hostOnly attachment').toBeDefined();
    expect(caps.configDriveFormats.length).toBeGreaterThan(0);
    const before = await s.listReal();
    for (const [i, format] of caps.configDriveFormats.entries()) {
      const name = `${s.run}-ip${i}`;
      const base = s.cloneSpec(name);
      const staticNic: BoundNic = {
        slot: 1,
        attachment: attachment as 'internal' | 'hostOnly',
        network: `${s.run}-static`,
        mac: `52:54:00:5a:0${i}:02`,
        portForwards: [],
      };
      const network: BoundNetwork = { nics: [...base.network.nics.slice(0, 1), staticNic] };
      const statics: StaticAddress[] = [
        {
          slot: 1,
          mac: staticNic.mac,
          family: 'ipv4',
          address: '192.168.123.10',
          prefix: 24,
          gateway: '192.168.123.1',
        },
      ];
      const drive = {
        format,
        instanceId: `iid-${name}`,
        hostname: name,
        networkConfig: staticNetworkConfig(format, network, statics),
      };
      const node = await s.provider.cloneNode({
        ...base,
        network,
        ...(s.configDrives ? { configDrive: drive } : {}),
      });
      s.made.push(node.id);
      const macs = (n: { network: BoundNetwork } | undefined) =>
        n?.network.nics.map((nic) => [nic.slot, nic.mac]);
      expect(macs(node)).toEqual(macs({ network }));
      expect(macs(await s.provider.getNode(node.id))).toEqual(macs({ network }));
      await s.provider.destroyNode(node.id);
    }
    expect(await s.listReal()).toEqual(before);
  });
}
