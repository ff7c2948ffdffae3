import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAll } from '../blobstore/blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { buildLeaseKey, leaseBlobName } from '../masters/build-lease-options.js';
import { providerNamespace } from '../masters/master-repository.js';
import type { MemoryProvider } from '../testing/memory-provider.js';
import type { ProgressEvent } from '../util/progress.js';
import { debianSpec, provider, type Scratch, scratch } from './service.fixture.js';

const LEASES = 'vmkit-images-leases';
const fast = { buildLease: { ttlMs: 1000, renewMs: 200 } };

describe('builds coordinated across compute services sharing a store', () => {
  let s: Scratch;
  beforeEach(async () => {
    s = await scratch();
  });
  afterEach(async () => {
    await s.dispose();
  });

  async function leaseNames(): Promise<string[]> {
    const names: string[] = [];
    for await (const item of listAll(s.store, LEASES)) names.push(item.name);
    return names;
  }

  it('builds once for two services asking at once; the waiter reports the holder and uses its master', async () => {
    const p = provider({ buildDelayMs: 300 });
    const a = await s.service(p, fast);
    const b = await s.service(p, fast);
    const events: ProgressEvent[] = [];
    const [ia, ib] = await Promise.all([
      a.ensureImage('debian-12', { onProgress: (e) => events.push(e) }),
      b.ensureImage('debian-12', { onProgress: (e) => events.push(e) }),
    ]);
    expect(p.stats.builds).toBe(1);
    expect(p.masterNames()).toHaveLength(1);
    expect(ia.builtAt).toBeDefined();
    expect(ib.builtAt).toBe(ia.builtAt);
    expect(
      events.some((e) => e.phase === 'build' && /waiting for the build lease held by .* pid/.test(e.message)),
    ).toBe(true);
    expect(await leaseNames()).toEqual([]);
  });

  it('aborts and rolls back a build whose lease another process took over, then waits for that process', async () => {
    const p = provider({ buildDelayMs: 1500 });
    const a = await s.service(p, fast);
    const messages: string[] = [];
    const building = a.ensureImage('debian-12', { onProgress: (e) => messages.push(e.message ?? '') });
    await expect.poll(() => leaseNames()).toHaveLength(1);
    await expect.poll(() => p.masterNames()).toHaveLength(1);
    const key = buildLeaseKey(providerNamespace(p.id), 'debian-12');
    // Another process writes the next generation (create-only, as a taker does), racing the renewals.
    for (;;) {
      const names = await leaseNames();
      const newest = names.at(-1) as string;
      const generation = Number(newest.slice(key.length, key.length + 12)) + 1;
      const record = {
        schemaVersion: 1,
        imageId: 'debian-12',
        specHash: 'x',
        masterName: 'vmkit-debian-12-00000000-0000',
        holder: { hostname: 'other', pid: 2, id: 'taker' },
        generation,
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      };
      const taken = await s.store
        .putBlob(LEASES, leaseBlobName(key, generation), JSON.stringify(record), { ifNoneMatch: '*' })
        .then(
          () => true,
          (e: unknown) => (VmkitError.is(e, 'CONFLICT') ? false : Promise.reject(e)),
        );
      if (taken) break;
    }
    // The build is rolled back; the host does not fail but waits for the taker's lease.
    await expect.poll(() => p.masterNames()).toEqual([]);
    await expect
      .poll(() => messages.some((m) => m.startsWith('waiting for the build lease held by other')))
      .toBe(true);
    // The taker ends without building (releases): the host takes the lease and builds after all.
    for (const name of await leaseNames()) await s.store.removeBlob(LEASES, name);
    const image = await building;
    expect(image.status).toBe('available');
    expect(p.masterNames()).toHaveLength(1);
  });

  it('start-up removes what a dead build left, but not what a live lease names', async () => {
    const p = provider();
    const key = buildLeaseKey(providerNamespace(p.id), 'live');
    await s.store.createContainer(LEASES);
    const lease = (masterName: string, imageId: string, expiresInMs: number) =>
      JSON.stringify({
        schemaVersion: 1,
        imageId,
        specHash: 'x',
        masterName,
        holder: { hostname: 'h', pid: 3, id: 'someone' },
        generation: 1,
        expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
      });
    await s.store.putBlob(LEASES, leaseBlobName(key, 1), lease('vmkit-live-00000000-0001', 'live', 60_000));
    const deadKey = buildLeaseKey(providerNamespace(p.id), 'dead');
    await s.store.putBlob(LEASES, leaseBlobName(deadKey, 4), lease('vmkit-dead-00000000-0002', 'dead', -1));
    p.plantLeftover('vmkit-live-00000000-0001', 'live');
    p.plantLeftover('vmkit-dead-00000000-0002', 'dead');
    p.plantLeftover('vmkit-debian-12-00000000-0003', 'debian-12');
    const service = await s.service(p, fast);
    expect(p.masterNames()).toEqual(['vmkit-live-00000000-0001']);
    expect(await leaseNames()).toEqual([leaseBlobName(key, 1)]);
    const pruned = await service.pruneImages();
    expect(pruned.removed).toEqual([]);
    expect(pruned.kept).toContainEqual({
      kind: 'leftover',
      id: 'vmkit-live-00000000-0001',
      reason: 'a live build lease names it (h pid 3)',
    });
  });

  /** Writes generation 1 of a lease record as another process would, expiring in `expiresInMs`. */
  async function plantLease(
    p: MemoryProvider,
    imageId: string,
    masterName: string,
    expiresInMs: number,
    folder = imageId,
  ) {
    await s.store.createContainer(LEASES);
    const key = buildLeaseKey(providerNamespace(p.id), folder);
    const record = {
      schemaVersion: 1,
      imageId,
      specHash: 'x',
      masterName,
      holder: { hostname: 'dead-host', pid: 7, id: `dead-${folder}` },
      generation: 1,
      expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    };
    await s.store.putBlob(LEASES, leaseBlobName(key, 1), JSON.stringify(record));
  }

  it('taking over a lapsed lease removes exactly what its dead build left, without a restart', async () => {
    const p0 = provider();
    // A builder killed mid-build: its lease still live when this service starts, its master half-made.
    await plantLease(p0, 'debian-12', 'vmkit-debian-12-0123abcd-dead', 1500);
    p0.plantLeftover('vmkit-debian-12-0123abcd-dead', 'debian-12');
    const service = await s.service(p0, fast);
    // Start-up leaves it: the lease had not lapsed.
    expect(p0.masterNames()).toEqual(['vmkit-debian-12-0123abcd-dead']);
    // Another master name of the image, which the lapsed lease does not name: not the dead build's.
    p0.plantLeftover('vmkit-debian-12-0123abcd-beef', 'debian-12');
    const messages: string[] = [];
    const image = await service.ensureImage('debian-12', { onProgress: (e) => messages.push(e.message) });
    expect(messages.some((m) => m.startsWith('waiting for the build lease held by dead-host'))).toBe(true);
    expect(p0.masterNames()).not.toContain('vmkit-debian-12-0123abcd-dead');
    expect(p0.masterNames()).toContain('vmkit-debian-12-0123abcd-beef');
    expect(p0.masterNames()).toHaveLength(2);
    expect(image.status).toBe('available');
    expect(await leaseNames()).toEqual([]);
  });

  it("a lapsed lease naming another image's build, or one a live lease names, removes nothing", async () => {
    const p0 = provider();
    // Image b's lapsed record names image c's build, which c's live lease holds.
    await plantLease(p0, 'c', 'vmkit-c-00000000-0001', 60_000);
    await plantLease(p0, 'b', 'vmkit-c-00000000-0001', 1500);
    p0.plantLeftover('vmkit-c-00000000-0001', 'c');
    // Image d's lapsed record names a build of d that a live lease (in another folder) holds.
    await plantLease(p0, 'd', 'vmkit-d-00000000-0002', 60_000, 'e');
    await plantLease(p0, 'd', 'vmkit-d-00000000-0002', 1500);
    p0.plantLeftover('vmkit-d-00000000-0002', 'd');
    const service = await s.service(p0, { ...fast, images: [debianSpec('b'), debianSpec('d')] });
    await Promise.all([service.ensureImage('b'), service.ensureImage('d')]);
    expect(p0.masterNames()).toContain('vmkit-c-00000000-0001');
    expect(p0.masterNames()).toContain('vmkit-d-00000000-0002');
    expect(p0.masterNames()).toHaveLength(4);
  });
});
