import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { memoryBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LibvirtTestCompute,
  libvirtTestCompute,
} from '../../provider-libvirt/test-support/libvirt-compute.js';
import { leftovers } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix, testGuest, testGuestMasterSpec } from '../../provider-libvirt/test-support/test-guest.js';
import { bootableDisk } from '../test-support/bootable-disk.js';
import { createImportService } from './import-service.js';

const exec = promisify(execFile);
const URI = 'qemu:///system';
const POOL = 'vmkit';

describe('boot checks of imports (qemu:///system)', () => {
  const prefix = runPrefix('bc');
  let dir: string;
  let lab: LibvirtTestCompute;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-boot-check-'));
    lab = await libvirtTestCompute(prefix, [testGuestMasterSpec('bc-guest')]);
  });
  afterAll(async () => {
    await lab?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('a bootable disk passes (its page answers), a disk with no boot loader fails quoting the console, and no node or volume of either remains', async () => {
    const { compute } = lab;
    await compute.ensureImage('bc-guest');
    const { volumes: before } = await leftovers(URI, prefix, POOL);
    const master = (
      await exec('virsh', ['-c', URI, 'vol-path', '--pool', POOL, before.find((v) => v.endsWith('.qcow2'))!])
    ).stdout.trim();
    const bootable = join(dir, 'guest.raw');
    await bootableDisk(master, testGuest(), bootable, dir);
    const blank = join(dir, 'blank.raw');
    await exec('truncate', ['-s', '64M', blank]);
    await using imports = await createImportService({
      store: memoryBlobStore(),
      scratchDir: join(dir, 'scratch'),
      compute,
    });

    const good = await imports.importImage({
      diskContainers: [{ format: 'raw', path: bootable }],
      imageId: 'bc-good',
      validate: { boot: true, until: { http: '/' }, timeoutMs: 240_000 },
    });
    const passed = await imports.waitForTask(good.importTaskId);
    expect([passed.status, passed.statusMessage]).toEqual([
      'completed',
      expect.stringMatching(/^completed: boot check passed: http 80\/ in /),
    ]);
    expect((await compute.getImage('bc-good'))?.status).toBe('available');

    const bad = await imports.importImage({
      diskContainers: [{ format: 'raw', path: blank }],
      imageId: 'bc-blank',
      validate: { boot: true, until: { http: '/' }, timeoutMs: 30_000 },
    });
    const failed = await imports.waitForTask(bad.importTaskId);
    expect(failed.status).toBe('deleted');
    expect(failed.failureReason).toMatch(
      /^validate\.boot: a node of image bc-blank did not answer \(http 80\/\) within 30000 ms/,
    );
    expect(failed.failureReason).toMatch(
      /the console's last lines:\nSeaBIOS .*\nBoot failed: not a bootable disk\n/s,
    );
    expect(await compute.getImage('bc-blank')).toBeUndefined();
    expect((await imports.listImages()).map((i) => i.imageId)).toEqual(['bc-good']);

    // Neither check left a node; the only new volume is the good image's master.
    expect(await compute.listNodes()).toEqual([]);
    const after = await leftovers(URI, prefix, POOL);
    expect(after.domains).toEqual([]);
    expect(after.volumes.filter((v) => !before.includes(v))).toEqual([expect.stringMatching(/bc-good/)]);
  });
});
