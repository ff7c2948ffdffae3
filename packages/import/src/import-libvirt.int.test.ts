import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore, memoryBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForGuestPage } from '../../provider-libvirt/test-support/http.js';
import { leftovers, sweep } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix, testGuest, testGuestMasterSpec } from '../../provider-libvirt/test-support/test-guest.js';
import { bootableDisk } from '../test-support/bootable-disk.js';
import { createImportService } from './import-service.js';

const exec = promisify(execFile);
const URI = 'qemu:///system';
const POOL = 'vmkit';

async function poolVolumes(prefix: string): Promise<Map<string, string>> {
  const { stdout } = await exec('virsh', ['-c', URI, 'vol-list', POOL]);
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [name, path] = line.trim().split(/\s+/);
    if (name?.startsWith(prefix) && path) out.set(name, path);
  }
  return out;
}

describe('imports feed libvirt masters (qemu:///system)', () => {
  const prefix = runPrefix('imp');
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-import-libvirt-'));
  });
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    await rm(dir, { recursive: true, force: true });
  });

  it("the test guest's master, exported to VMDK and VHD and imported back, is cloned by createNodesInGroup and answers over its forwarded port", async () => {
    const at = (n: string) => join(dir, n);
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
      store: fileSystemBlobStore({ root: at('compute') }),
      images: [testGuestMasterSpec('imp-guest')],
      ports: { leaseDir: at('leases') },
    });
    await compute.ensureImage('imp-guest');
    const master = [...(await poolVolumes(`${prefix}m-`)).values()].find((p) => p.endsWith('.qcow2'))!;
    expect(master).toBeDefined();

    // The test guest boots by direct kernel boot: its master's root goes on a disk that SYSLINUX boots.
    const disk = at('guest-disk.raw');
    await bootableDisk(master, testGuest(), disk, dir);
    // That disk goes out as VMDK and VHD through a service of its own...
    await using out = await createImportService({ store: memoryBlobStore(), scratchDir: at('out/scratch') });
    const { importTaskId: copyId } = await out.importImage({
      diskContainers: [{ format: 'raw', path: disk }],
    });
    const copy = await out.waitForTask(copyId);
    expect(copy.status).toBe('completed');
    const imageId = (await out.listImages())[0]!.imageId;
    for (const format of ['vmdk', 'vhd'] as const) {
      const { exportImageTaskId } = await out.exportImage({
        imageId,
        diskImageFormat: format,
        destination: { path: at(`guest.${format}`) },
      });
      expect((await out.waitForTask(exportImageTaskId)).status).toBe('completed');
    }

    // ...and comes back through one that registers imports with the compute service.
    await using back = await createImportService({
      store: memoryBlobStore(),
      scratchDir: at('back/scratch'),
      compute,
    });
    for (const format of ['vmdk', 'vhd'] as const) {
      const { importTaskId } = await back.importImage({
        diskContainers: [{ format, path: at(`guest.${format}`) }],
        imageId: `imp-${format}`,
        os: { family: 'linux', version: 'vmkit-test-guest', arch: 'x86_64' },
      });
      const task = await back.waitForTask(importTaskId);
      expect([format, task.status, task.statusMessage]).toEqual([format, 'completed', 'completed']);
      expect((await compute.getImage(`imp-${format}`))?.status).toBe('available');
      const template = await compute
        .templateBuilder()
        .imageId(`imp-${format}`)
        .options({ inboundPorts: [80], userData: `from-${format}` })
        .build();
      const [node] = await compute.createNodesInGroup(`imp${format}`, 1, template);
      expect(node).toMatchObject({ status: 'running', imageId: `imp-${format}`, linkedClone: true });
      const nodeDisk = [...(await poolVolumes(prefix)).entries()].find(
        ([n]) => n.includes(node!.name) && n.endsWith('.qcow2'),
      );
      expect(nodeDisk).toBeDefined();
      // Through its backing chain the clone's disk holds exactly the disk's bytes, and it boots.
      await exec('qemu-img', ['compare', '-U', '-f', 'raw', '-F', 'qcow2', disk, nodeDisk![1]]);
      const { page } = await waitForGuestPage(`http://127.0.0.1:${node!.hostPorts['tcp-80']}/`);
      expect(page).toMatchObject({ hostname: node!.name, userData: `from-${format}` });
      await compute.destroyNode(node!.id);
    }
    expect((await leftovers(URI, prefix, POOL)).domains).toEqual([]);
  });
});
