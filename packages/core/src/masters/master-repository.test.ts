import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../blobstore/blob-store.js';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { silentLogger } from '../util/logger.js';
import { record } from './catalogue.fixture.js';
import { MasterRepository } from './master-repository.js';

/** Counts reads of the records container. */
function counting(store: BlobStore): BlobStore & { reads: number } {
  const counted = {
    ...store,
    reads: 0,
    async getBlob(container: string, name: string, options?: { signal?: AbortSignal }) {
      if (container === 'vmkit-images') counted.reads++;
      return store.getBlob(container, name, options);
    },
  };
  return counted;
}

describe('MasterRepository', () => {
  it('keeps each provider in its own folder of the container', async () => {
    const store = memoryBlobStore();
    const a = new MasterRepository(store, {
      container: 'vmkit-images',
      providerId: 'libvirt:host-a',
      logger: silentLogger,
    });
    const b = new MasterRepository(store, {
      container: 'vmkit-images',
      providerId: 'libvirt:host-b',
      logger: silentLogger,
    });
    await a.init();
    await a.save(record('same-id', 1));
    await b.save(record('same-id', 2));
    expect((await a.loadAll()).records.map((r) => r.spec.hardware?.cores)).toEqual([1]);
    expect((await b.loadAll()).records.map((r) => r.spec.hardware?.cores)).toEqual([2]);
    expect(a.prefix).toMatch(/^p-[0-9a-f]{16}\/$/);
  });
});

describe('MasterRepository snapshot', () => {
  it('reads unchanged records from the snapshot and re-reads changed ones', async () => {
    const store = counting(memoryBlobStore());
    const repo = new MasterRepository(store, {
      container: 'vmkit-images',
      providerId: 'p',
      logger: silentLogger,
    });
    await repo.init();
    for (let i = 0; i < 20; i++) await repo.save(record(`img-${i}`));
    expect((await repo.loadAll()).records).toHaveLength(20);
    expect(store.reads).toBe(20);

    store.reads = 0;
    expect((await repo.loadAll()).records).toHaveLength(20);
    expect(store.reads).toBe(0);

    await repo.save(record('img-3', 4));
    await repo.remove('img-7');
    store.reads = 0;
    const { records } = await repo.loadAll();
    expect(store.reads).toBe(1);
    expect(records).toHaveLength(19);
    expect(records.find((r) => r.imageId === 'img-3')?.spec.hardware?.cores).toBe(4);
  });

  it('ignores a snapshot entry that does not validate and trusts the blob', async () => {
    const store = counting(memoryBlobStore());
    const repo = new MasterRepository(store, {
      container: 'vmkit-images',
      providerId: 'p',
      logger: silentLogger,
    });
    await repo.init();
    await repo.save(record('good'));
    await repo.loadAll();
    const snap = JSON.parse(
      (await (await store.getBlob('vmkit-images-index', `${repo.prefix}records.json`))?.text()) as string,
    );
    snap.entries[0].record = { ...snap.entries[0].record, imageId: '../../evil' };
    await store.putBlob('vmkit-images-index', `${repo.prefix}records.json`, JSON.stringify(snap));
    store.reads = 0;
    const { records, quarantined } = await repo.loadAll();
    expect(records.map((r) => r.imageId)).toEqual(['good']);
    expect(quarantined).toEqual([]);
    expect(store.reads).toBe(1);
  });

  it('survives an unreadable snapshot', async () => {
    const store = memoryBlobStore();
    const repo = new MasterRepository(store, {
      container: 'vmkit-images',
      providerId: 'p',
      logger: silentLogger,
    });
    await repo.init();
    await repo.save(record('a'));
    await store.putBlob('vmkit-images-index', `${repo.prefix}records.json`, '{ not json');
    expect((await repo.loadAll()).records.map((r) => r.imageId)).toEqual(['a']);
  });
});
