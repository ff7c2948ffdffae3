import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileSystemBlobStore } from '../blobstore/file-system-blob-store.js';
import { createComputeService } from '../compute/create-compute-service.js';
import { debianSpec } from '../compute/service.fixture.js';
import type { MasterSpec } from '../model/master-spec.js';
import { memoryProvider } from '../testing/memory-provider.js';
import { silentLogger } from '../util/logger.js';
import { BuildLeases } from './build-lease.js';
import { resolveBuildLeaseOptions } from './build-lease-options.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-fleet-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function host(name: string, shareMasters: boolean, images = [debianSpec()], buildDelayMs = 400) {
  const provider = memoryProvider({ id: `memory:${name}`, faults: { buildDelayMs } });
  const service = await createComputeService({
    provider,
    store: fileSystemBlobStore({ root: join(dir, 'store'), durable: false }),
    images,
    shareMasters,
    buildLease: { ttlMs: 3_000, renewMs: 500 },
    ports: { leaseDir: join(dir, `leases-${name}`), probe: false },
  });
  return { provider, service };
}

describe('a fleet sharing masters', () => {
  it('builds a master once when several hosts ask at once: one builds and publishes, the others wait and adopt', async () => {
    const hosts = await Promise.all(['a', 'b', 'c'].map((name) => host(name, true)));
    const images = await Promise.all(hosts.map((h) => h.service.ensureImage('debian-12')));
    const builds = hosts.map((h) => h.provider.stats.builds);
    const imports = hosts.map((h) => h.provider.stats.imports);
    expect(builds.reduce((a, b) => a + b)).toBe(1);
    expect(imports.reduce((a, b) => a + b)).toBe(2);
    // Each host registered a master of its own (adopted ones are built under this host's names).
    expect(new Set(images.map((i) => i.status))).toEqual(new Set(['available']));
    for (const h of hosts) expect(h.provider.masterNames()).toHaveLength(1);
    await Promise.all(hosts.map((h) => h.service.close()));
  });

  it('builds each image once when many hosts ask for every image at once, in their own order', async () => {
    const images = ['a', 'b', 'c'].map((id) => debianSpec(`img-${id}`));
    const hosts = await Promise.all(Array.from({ length: 8 }, (_, i) => host(`h${i}`, true, images, 100)));
    // Each host asks for every image at once, starting from a different one.
    const ready = await Promise.all(
      hosts.flatMap((h, i) =>
        images.map((_, j) => h.service.ensureImage((images[(i + j) % images.length] as MasterSpec).id)),
      ),
    );
    expect(ready.every((image) => image.status === 'available')).toBe(true);
    expect(hosts.reduce((n, h) => n + h.provider.stats.builds, 0)).toBe(images.length);
    expect(hosts.reduce((n, h) => n + h.provider.stats.imports, 0)).toBe(8 * images.length - images.length);
    await Promise.all(hosts.map((h) => h.service.close()));
  });

  it("adopts a published master while another host holds the image's fleet-wide build lease", async () => {
    const a = await host('a', true);
    await a.service.ensureImage('debian-12');
    // Another host holds the image's build lease (and renews it): adopting must not wait for it.
    const other = new BuildLeases(
      fileSystemBlobStore({ root: join(dir, 'store'), durable: false }),
      { container: 'vmkit-images-leases', namespace: 'shared' },
      resolveBuildLeaseOptions({ ttlMs: 3_000, renewMs: 500 }),
      silentLogger,
    );
    await other.init();
    const held = await other.acquire({
      imageId: 'debian-12',
      specHash: 'x',
      masterName: 'vmkit-debian-12-00000000-0000',
    });
    try {
      const b = await host('b', true);
      // The holder renews for as long as it lives: waiting for its lease would end only by the signal.
      const image = await b.service.ensureImage('debian-12', { signal: AbortSignal.timeout(15_000) });
      expect(image.status).toBe('available');
      expect([b.provider.stats.builds, b.provider.stats.imports]).toEqual([0, 1]);
      await b.service.close();
    } finally {
      await held.release();
      await a.service.close();
    }
  });

  it('two processes sharing one hypervisor adopt a published master once between them', async () => {
    const a = await host('a', true);
    await a.service.ensureImage('debian-12');
    const provider = memoryProvider({ id: 'memory:shared-hypervisor' });
    const open = () =>
      createComputeService({
        provider,
        store: fileSystemBlobStore({ root: join(dir, 'store'), durable: false }),
        images: [debianSpec()],
        shareMasters: true,
        buildLease: { ttlMs: 3_000, renewMs: 500 },
        ports: { leaseDir: join(dir, 'leases-shared'), probe: false },
      });
    const services = [await open(), await open()];
    const images = await Promise.all(services.map((s) => s.ensureImage('debian-12')));
    expect([provider.stats.builds, provider.stats.imports]).toEqual([0, 1]);
    expect(provider.masterNames()).toHaveLength(1);
    expect(images[0]?.builtAt).toBe(images[1]?.builtAt);
    await Promise.all([...services, a.service].map((s) => s.close()));
  });

  it('without shareMasters each host keeps its own lease folder and builds its own master', async () => {
    const hosts = await Promise.all(['a', 'b'].map((name) => host(name, false)));
    await Promise.all(hosts.map((h) => h.service.ensureImage('debian-12')));
    expect(hosts.map((h) => h.provider.stats.builds)).toEqual([1, 1]);
    await Promise.all(hosts.map((h) => h.service.close()));
  });
});
