import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createComputeService } from '@vmkit/core';
import { memoryBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../provider-libvirt/test-support/test-guest.js';
import { createImportService } from './import-service.js';

const exec = promisify(execFile);
const URI = 'qemu:///system';
const POOL = 'vmkit';

async function volumePath(name: string): Promise<string> {
  const { stdout } = await exec('virsh', ['-c', URI, 'vol-path', '--pool', POOL, name]);
  return stdout.trim();
}

describe("exports of the compute service's own masters (qemu:///system)", () => {
  const prefix = runPrefix('iexp');
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-export-compute-'));
  });
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    await rm(dir, { recursive: true, force: true });
  });

  it("the test guest's master goes out as VMDK and VHD straight from the pool, equal in content, nothing left behind", async () => {
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, pool: POOL, namePrefix: prefix }),
      store: memoryBlobStore(),
      images: [testGuestMasterSpec('iexp-guest')],
      ports: { leaseDir: join(dir, 'leases') },
    });
    await compute.ensureImage('iexp-guest');
    const before = await leftovers(URI, prefix, POOL);
    const rootVolume = before.volumes.find((v) => v.endsWith('.qcow2'));
    expect(rootVolume).toBeDefined();
    const master = await volumePath(rootVolume!);

    await using service = await createImportService({
      store: memoryBlobStore(),
      scratchDir: join(dir, 'scratch'),
      compute,
    });
    for (const [format, driver] of [
      ['vmdk', 'vmdk'],
      ['vhd', 'vpc'],
    ] as const) {
      const out = join(dir, `guest.${format}`);
      const { exportImageTaskId } = await service.exportImage({
        imageId: 'iexp-guest',
        diskImageFormat: format,
        destination: { path: out },
      });
      const task = await service.waitForTask(exportImageTaskId);
      expect([format, task.status, task.statusMessage]).toEqual([format, 'completed', 'completed']);
      const info = JSON.parse((await exec('qemu-img', ['info', '--output=json', out])).stdout);
      expect(info.format).toBe(driver);
      if (format === 'vmdk') expect(info['format-specific'].data['create-type']).toBe('streamOptimized');
      // The export holds exactly the master's bytes (no derived disk: straight from its volume).
      await exec('qemu-img', ['compare', '-U', '-f', driver, '-F', 'qcow2', out, master]);
    }
    // Nothing new in the pool (the master's own volumes only), no domain, no scratch.
    const after = await leftovers(URI, prefix, POOL);
    expect(after.domains).toEqual([]);
    expect([...after.volumes].sort()).toEqual([...before.volumes].sort());
    expect(before.domains).toEqual([]);
    expect(await readdir(join(dir, 'scratch', 'tasks'))).toEqual([]);
  });
});
