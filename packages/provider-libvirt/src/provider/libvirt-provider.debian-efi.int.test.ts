import { existsSync } from 'node:fs';
import type { MasterSpec, NodeMetadata } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianGuest } from '../../test-support/debian-guest.js';
import { type LibvirtTestCompute, libvirtTestCompute } from '../../test-support/libvirt-compute.js';
import { leftovers } from '../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';

// A real distro under UEFI: the Debian test guest's disk (SYSLINUX for BIOS, GRUB at the removable
// media path for UEFI) imported as an `efi` master, built (install-agent, post-install boot with its
// config drive) and cloned under OVMF. The node reads its config drive (cloud-init sets the
// hostname from it; under OVMF the drive is on virtio-scsi, see domain-xml.ts), reports
// /sys/firmware/efi through the guest agent, boots with an NVRAM file of its own, and leaves
// nothing behind.

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('debefi');
/** A Debian boot under TCG: about 70 s idle, minutes while the machine's two cores are shared. */
const BOOT_MS = 600_000;

let t: LibvirtTestCompute;
let client: LibvirtClient;

beforeAll(async () => {
  const guest = debianGuest();
  const spec: MasterSpec = {
    id: 'debian-efi',
    os: { family: 'debian', version: '12', arch: 'x86_64' },
    source: { type: 'disk', path: guest.disk, format: 'qcow2' },
    hardware: { cores: 1, ramMiB: 1024, diskGiB: 3, firmware: 'efi' },
  };
  t = await libvirtTestCompute(prefix, [spec], { postInstallTimeoutMs: BOOT_MS });
  client = await LibvirtClient.connect(URI);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await t?.dispose();
});

async function nvramOf(node: NodeMetadata): Promise<string | undefined> {
  const dom = await client.domains.lookupByName(`${prefix}${node.name}`);
  return /<nvram[^>]*>([^<]+)<\/nvram>/.exec(await client.domains.getXmlDesc(dom))?.[1];
}

describe('the Debian guest under UEFI (OVMF) on qemu:///system', () => {
  it(
    'builds an efi master, boots a node that reads its config drive and reports /sys/firmware/efi',
    async () => {
      const started = Date.now();
      const [node] = await t.compute.createNodesInGroup('efi', 1, {
        configDrive: true,
        hardware: { ramMiB: 768, cores: 1 },
      });
      if (!node) throw new Error('no node');
      expect(node.hardware.firmware).toBe('efi');
      await t.compute.waitForNode(node.id, { until: 'agent', timeoutMs: BOOT_MS });
      console.info(`[debian-efi] master build and node boot to the agent: ${Date.now() - started} ms`);
      const probe = await t.compute.runScriptOnNode(
        node.id,
        'if [ -d /sys/firmware/efi ]; then echo efi; else echo bios; fi; cloud-init status --wait >/dev/null; hostname',
        { transport: 'agent', timeoutMs: BOOT_MS },
      );
      expect(probe.exitCode).toBe(0);
      const [firmware, hostname] = probe.stdout.trim().split('\n');
      expect(firmware).toBe('efi');
      // The hostname came from the config drive's meta-data: the drive was found under OVMF.
      expect(hostname).toBe(node.name);
      const nvram = await nvramOf(node);
      expect(nvram).toMatch(/-VARS\.fd$/);
      expect(existsSync(nvram as string)).toBe(true);

      await t.compute.destroyNode(node.id);
      expect(existsSync(nvram as string)).toBe(false);
      const left = await leftovers(URI, prefix, POOL);
      expect(left.domains).toEqual([]);
      expect(left.volumes.filter((v) => !v.startsWith(`${prefix}m-`))).toEqual([]);
    },
    2 * BOOT_MS,
  );
});
