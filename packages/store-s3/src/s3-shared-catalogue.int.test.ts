import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createComputeService, type MasterSpec } from '@vmkit/core';
import { providerNamespace } from '@vmkit/core/internal';
import { memoryProvider } from '@vmkit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3Server, type TestS3Server } from './testing/s3-test-server.js';
import { createTestBucket, openTestStore } from './testing/test-store.js';

const spec: MasterSpec = {
  id: 'debian-12-shared',
  os: { family: 'debian', version: '12.5', arch: 'x86_64' },
  source: { type: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img' },
  hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
  login: { user: 'root' },
};

describe('a catalogue of masters shared through S3 by two processes', () => {
  let server: TestS3Server;
  let dir: string;
  beforeAll(async () => {
    server = await startTestS3Server();
    dir = await mkdtemp(join(tmpdir(), 'vmkit-s3-shared-'));
  });
  afterAll(async () => {
    await server?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('builds a master in one process; another process over the same bucket lists it available and clones without building', async () => {
    const bucket = await createTestBucket(server);
    const prefix = 'site-a/';
    const statePath = join(dir, 'hypervisor.json');
    const leaseDir = join(dir, 'leases');

    const provider = memoryProvider({ statePath });
    await using store = await openTestStore(server, { bucket, prefix });
    const first = await createComputeService({
      provider,
      store,
      images: [spec],
      ports: { leaseDir, probe: false },
    });
    expect((await first.getImage(spec.id))?.status).toBe('buildable');
    await first.ensureImage(spec.id);
    expect(provider.stats.builds).toBe(1);
    await first.close();
    // The master's metadata is in the bucket, under the prefix.
    expect((await store.list('vmkit-images')).items.map((i) => i.name)).toContain(
      `${providerNamespace(provider.id)}/${spec.id}.json`,
    );

    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('./testing/second-host-main.mjs', import.meta.url))],
      {
        env: {
          ...process.env,
          VMKIT_STATE: statePath,
          VMKIT_BUCKET: bucket,
          VMKIT_PREFIX: prefix,
          VMKIT_ENDPOINT: server.endpoint,
          VMKIT_IMAGES: JSON.stringify([spec]),
          VMKIT_LEASES: leaseDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    const second = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
      pid: number;
      images: Array<{ id: string; status: string }>;
      nodes: number;
      builds: number;
    };
    expect(second.pid).not.toBe(process.pid);
    expect(second.images).toEqual([{ id: spec.id, status: 'available' }]);
    expect(second.nodes).toBe(1);
    expect(second.builds).toBe(0);
  });
});
