import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createComputeService, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForGuestPage } from '../../test-support/http.js';
import { leftovers, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix } from '../../test-support/test-guest.js';
import { libvirtProvider } from './libvirt-provider.js';

// A node boots live from a remastered boot ISO (source type `bootIso`): the fixture live ISO
// (scripts/test.d/30-boot-isos.sh) runs the test guest's kernel with an rdinit that serves its
// /proc/cmdline and its config drive's user data over HTTP.
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('bi');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-bootiso-libvirt-'));
const marker = `vmkit.live=${randomBytes(4).toString('hex')}`;
let spec: MasterSpec;

beforeAll(() => {
  for (const hook of ['20-libvirtd.sh', '30-boot-isos.sh'])
    execFileSync('bash', [join(repo, 'scripts/test.d', hook)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const fixtures = process.env.VMKIT_BOOT_ISO_DIR ?? join(repo, '.vmkit', 'boot-isos');
  spec = {
    id: 'live-iso',
    os: { family: 'linux', version: 'vmkit-live', arch: 'x86_64' },
    source: { type: 'bootIso', path: join(fixtures, 'live.iso'), kernelParams: marker },
    hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
  };
});
afterAll(async () => {
  await sweep(URI, prefix, POOL);
  rmSync(dir, { recursive: true, force: true });
});

describe('libvirt bootIso masters', () => {
  it('boots a node live from the remastered ISO with its config drive; it answers through its forwarded port', async () => {
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [spec],
      ports: { leaseDir: join(dir, 'leases') },
    });
    const [node] = await compute.createNodesInGroup('live', 1, {
      inboundPorts: [80],
      userData: 'hello-live',
    });
    const port = node?.hostPorts['tcp-80'];
    expect(port).toBeGreaterThan(0);
    const { page } = await waitForGuestPage(`http://127.0.0.1:${port}/`, 180_000);
    expect(page.userData).toBe('hello-live');
    const cmdline = (page as unknown as { cmdline: string }).cmdline.trim().split(' ');
    expect(cmdline).toContain(marker);
    expect(cmdline).toContain('rdinit=/vmkit-live.sh');
    expect((page as unknown as { firmware: string }).firmware).toBe('bios');
    // The node has no disk of its own: only its config drive besides the master's ISO.
    const during = await leftovers(URI, prefix, POOL);
    expect(during.volumes.filter((v) => v.endsWith('.qcow2'))).toEqual([]);
    await compute.destroyNodesMatching((n) => n.group === 'live');
    const left = await leftovers(URI, prefix, POOL);
    expect(left.domains).toEqual([]);
    expect(left.volumes.filter((v) => !v.startsWith(`${prefix}m-`))).toEqual([]);
    expect(left.volumes.filter((v) => v.startsWith(`${prefix}m-`) && v.endsWith('.iso'))).toHaveLength(1);
  });

  it("boots the same ISO live under UEFI (firmware efi): GRUB's line remastered, the config drive read, the guest reports efi", async () => {
    const efi: MasterSpec = {
      ...spec,
      id: 'live-iso-efi',
      hardware: { cores: 1, ramMiB: 256, diskGiB: 1, firmware: 'efi' },
    };
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
      store: fileSystemBlobStore({ root: join(dir, 'store-efi') }),
      images: [efi],
      ports: { leaseDir: join(dir, 'leases-efi') },
    });
    const [node] = await compute.createNodesInGroup('live-efi', 1, {
      inboundPorts: [80],
      userData: 'hello-live-efi',
    });
    expect(node?.hardware.firmware).toBe('efi');
    const { page } = await waitForGuestPage(`http://127.0.0.1:${node?.hostPorts['tcp-80']}/`, 240_000);
    const seen = page as unknown as { cmdline: string; firmware: string; userData: string };
    expect(seen.firmware).toBe('efi');
    expect(seen.userData).toBe('hello-live-efi');
    expect(seen.cmdline.trim().split(' ')).toContain(marker);
    await compute.destroyNodesMatching((n) => n.group === 'live-efi');
    const left = await leftovers(URI, prefix, POOL);
    expect(left.domains).toEqual([]);
    expect(left.volumes.filter((v) => !v.startsWith(`${prefix}m-`))).toEqual([]);
  });
});
