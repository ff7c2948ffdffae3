import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix } from '../../provider-libvirt/test-support/test-guest.js';
import { runCliProcess } from '../test-support/spawn-cli.js';

// `vmkit import --os` registers the imported disk with the compute service of the same
// configuration (libvirt): a `disk` master, uploaded to the pool, listed by `vmkit images`.

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('ci');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-cli-import-lv-'));
writeFileSync(
  join(dir, 'vmkit.config.json'),
  JSON.stringify({ provider: { uri: URI, pool: POOL, namePrefix: prefix }, store: { dir: 'store' } }),
);

describe('vmkit import --os on qemu:///system', () => {
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes the imported disk a master of the compute service', async () => {
    await promisify(execFile)('qemu-img', ['create', '-q', '-f', 'raw', join(dir, 'disk.img'), '16M']);
    const run = await runCliProcess(
      ['import', 'disk.img', '--image-id', 'imported', '--os', 'linux/imported/x86_64', '--wait'],
      dir,
    );
    expect(run.stderr).toMatch(/100% completed/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('image imported is a master of the compute service');
    const images = JSON.parse((await runCliProcess(['images', '--json'], dir)).stdout) as Array<{
      id: string;
      status: string;
      os: unknown;
    }>;
    expect(images).toEqual([
      expect.objectContaining({
        id: 'imported',
        status: 'available',
        os: { family: 'linux', version: 'imported', arch: 'x86_64' },
      }),
    ]);
    expect((await leftovers(URI, prefix, POOL)).volumes.length).toBeGreaterThan(0);
  });
});
