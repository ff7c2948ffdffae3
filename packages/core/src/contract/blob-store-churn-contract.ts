import { expect, it } from 'vitest';
import type { BlobStore } from '../blobstore/blob-store.js';
import { listAll } from '../blobstore/blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';

/** Runs `work` for each of `count` workers at once, until `done()` says stop. */
async function churn(count: number, done: () => boolean, work: (i: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      while (!done()) await work(i);
    }),
  );
}

/**
 * The part of the blob store contract about other processes changing the store meanwhile (as a
 * fleet of hosts on one store does): listings, reads and removals race writers and removers of
 * the same folders, and none fails because of them. A removed blob is absent from a listing, a
 * read gives the whole blob or `undefined`. Registered by `describeBlobStoreContract`.
 */
export function describeChurnContract(
  store: () => BlobStore,
  fresh: () => Promise<string>,
  rounds: number,
): void {
  it('lists while other callers write and remove nested folders, never failing', async () => {
    const c = await fresh();
    await store().putBlob(c, 'l/stable/000000000001.json', 'kept');
    let listings = 0;
    const names = new Set<string>();
    // Short-lived blobs in folders of their own, as build leases are: each removal prunes a folder.
    const writers = churn(
      16,
      () => listings >= rounds,
      async (i) => {
        const name = `l/img-${i}/${String(listings).padStart(12, '0')}.json`;
        await store().putBlob(c, name, 'lease');
        await store().removeBlob(c, name);
      },
    );
    const listers = churn(
      4,
      () => listings >= rounds,
      async (i) => {
        const prefix = i % 2 === 0 ? 'l/' : `l/img-${i}/`;
        for await (const item of listAll(store(), c, prefix)) names.add(item.name);
        listings++;
      },
    );
    await Promise.all([writers, listers]);
    if (names.size > 0) expect(names.has('l/stable/000000000001.json')).toBe(true);
    expect((await store().list(c, { prefix: 'l/' })).items.map((item) => item.name)).toEqual([
      'l/stable/000000000001.json',
    ]);
  });

  it('reads, probes and removes blobs that other callers remove meanwhile, never failing', async () => {
    const c = await fresh();
    let reads = 0;
    const seen: string[] = [];
    const removers = churn(
      8,
      () => reads >= rounds,
      async (i) => {
        await store().putBlob(c, `r/${i % 4}/blob`, 'whole');
        await store().removeBlob(c, `r/${i % 4}/blob`);
      },
    );
    const readers = churn(
      4,
      () => reads >= rounds,
      async (i) => {
        const blob = await store().getBlob(c, `r/${i}/blob`);
        // Read now, or removed since: a removal after getBlob may fail the read, never corrupt it.
        const text = blob
          ? await blob.text().catch((e: unknown) => (VmkitError.is(e) ? 'removed' : String(e)))
          : 'absent';
        seen.push(text);
        await store().blobExists(c, `r/${i}/blob`);
        await store().removeBlob(c, `r/${i}/blob`);
        reads++;
      },
    );
    await Promise.all([removers, readers]);
    expect(seen.filter((text) => !['whole', 'absent', 'removed'].includes(text))).toEqual([]);
  });
}
