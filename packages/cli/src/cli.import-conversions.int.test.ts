import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix } from '../../provider-libvirt/test-support/test-guest.js';
import { runCliProcess } from '../test-support/spawn-cli.js';

// `vmkit import volume` and `vmkit import instance` (AWS's ImportVolume and ImportInstance) through
// the real binary; the instance is launched on qemu:///system with the configuration's prefix.

const exec = promisify(execFile);
const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('cic');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-cli-import-conv-'));
writeFileSync(
  join(dir, 'vmkit.config.json'),
  JSON.stringify({ provider: { uri: URI, pool: POOL, namePrefix: prefix }, store: { dir: 'store' } }),
);

describe('vmkit import volume and vmkit import instance', () => {
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('volume converts one disk to a qcow2 volume; instance imports a disk and launches a node of it; both with --json and as text', async () => {
    await exec('qemu-img', ['create', '-q', '-f', 'vmdk', join(dir, 'data.vmdk'), '16M']);
    const volume = await runCliProcess(['import', 'volume', 'data.vmdk', '--json'], dir);
    expect(volume.code, volume.stderr).toBe(0);
    const task = JSON.parse(volume.stdout);
    expect(task).toMatchObject({
      conversionTaskId: expect.stringMatching(/^import-vol-[0-9a-f]{17}$/),
      kind: 'import-volume',
      status: 'completed',
      volumeId: expect.stringMatching(/^vol-[0-9a-f]{17}$/),
      snapshotDetails: [{ format: 'vmdk', virtualSize: 16 * 1024 * 1024 }],
    });
    await exec('qemu-img', [
      'compare',
      '-f',
      'vmdk',
      '-F',
      'qcow2',
      join(dir, 'data.vmdk'),
      task.snapshotDetails[0].outputPath,
    ]);
    const text = await runCliProcess(['import', 'volume', 'data.vmdk'], dir);
    expect(text.stdout).toMatch(
      /^import-vol-[0-9a-f]{17} completed: volume vol-[0-9a-f]{17} \(qcow2 \/.*\.qcow2\)$/m,
    );
    const none = await runCliProcess(['import', 'volume', 'data.bin'], dir);
    expect([none.code, none.stderr]).toEqual([2, expect.stringMatching(/--format/)]);

    await exec('qemu-img', ['create', '-q', '-f', 'raw', join(dir, 'disk.img'), '16M']);
    const instance = await runCliProcess(['import', 'instance', 'disk.img', '--group', 'imp', '--json'], dir);
    expect(instance.code, instance.stderr).toBe(0);
    const launched = JSON.parse(instance.stdout);
    expect(launched).toMatchObject({
      conversionTaskId: expect.stringMatching(/^import-i-[0-9a-f]{17}$/),
      kind: 'import-instance',
      status: 'completed',
      imageId: expect.stringMatching(/^ami-/),
      instanceId: expect.any(String),
    });
    const nodes = JSON.parse((await runCliProcess(['ls', '--json'], dir)).stdout) as Array<{
      id: string;
      group: string;
      imageId: string;
    }>;
    expect(nodes).toEqual([
      expect.objectContaining({ id: launched.instanceId, group: 'imp', imageId: launched.imageId }),
    ]);
    expect((await leftovers(URI, prefix, POOL)).domains).toEqual([launched.instanceId]);
  });
});
