import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { memoryBlobStore } from '@vmkit/core/blobstore';
import { createImportService } from '@vmkit/import';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, sweep } from '../../provider-libvirt/test-support/libvirt-sweep.js';
import { runPrefix } from '../../provider-libvirt/test-support/test-guest.js';
import { runCliProcess } from '../test-support/spawn-cli.js';

// A Vagrant box as an image source of a CLI config file: `vmkit build` reads it through
// @vmkit/import's box reader and makes its master on qemu:///system.

const URI = 'qemu:///system';
const POOL = 'vmkit';
const prefix = runPrefix('cbx');
const dir = mkdtempSync(join(tmpdir(), 'vmkit-cli-box-config-'));
const env = { XDG_CACHE_HOME: join(dir, 'cache') };

describe('a Vagrant box in a CLI config file', () => {
  afterAll(async () => {
    await sweep(URI, prefix, POOL);
    rmSync(dir, { recursive: true, force: true });
  });

  it("vmkit build makes the box's master; vmkit images lists it available", async () => {
    await promisify(execFile)('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'disk.qcow2'), '16M']);
    await using imports = await createImportService({
      store: memoryBlobStore(),
      scratchDir: join(dir, 'mk'),
    });
    const made = await imports.importImage({
      diskContainers: [{ format: 'qcow2', path: join(dir, 'disk.qcow2') }],
      imageId: 'd',
    });
    await imports.waitForTask(made.importTaskId);
    const out = await imports.exportImage({
      imageId: 'd',
      diskImageFormat: 'box',
      destination: { path: join(dir, 'small.box') },
    });
    expect((await imports.waitForTask(out.exportImageTaskId)).status).toBe('completed');
    writeFileSync(
      join(dir, 'vmkit.config.json'),
      JSON.stringify({
        provider: { uri: URI, pool: POOL, namePrefix: prefix },
        store: { dir: 'store' },
        images: [
          {
            id: 'bx',
            os: { family: 'linux', version: 'box', arch: 'x86_64' },
            source: { type: 'box', path: 'small.box', provider: 'libvirt' },
          },
        ],
      }),
    );
    const build = await runCliProcess(['build', 'bx', '--json'], dir, env);
    expect(build.code, build.stderr).toBe(0);
    const images = JSON.parse((await runCliProcess(['images', '--json'], dir, env)).stdout) as Array<{
      id: string;
      status: string;
    }>;
    expect(images).toEqual([expect.objectContaining({ id: 'bx', status: 'available' })]);
    expect((await leftovers(URI, prefix, POOL)).volumes).toEqual([expect.stringMatching(/\.qcow2$/)]);
    // The box was unpacked into the user's cache (here XDG_CACHE_HOME), once.
    expect(readdirSync(join(dir, 'cache', 'vmkit', 'import', 'boxes'))).toHaveLength(1);
  });
});
