import { expect, it } from 'vitest';
import type { BlobStore } from '../blobstore/blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';

/** Whether `promise` settles within `ms` (for tests). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The part of the blob store contract about `watchBlob`, for stores that have it: a watcher wakes
 * when its blob is written, replaced or removed (also where its folders do not exist yet), stays
 * asleep while nothing changes, wakes on abort, and refuses a bad name. Registered by
 * `describeBlobStoreContract` when its `watch` option is set.
 */
export function describeWatchContract(store: () => BlobStore, fresh: () => Promise<string>): void {
  const watchOf = (s: BlobStore) => {
    const watch = s.watchBlob?.bind(s);
    if (!watch) throw new Error('the store has no watchBlob');
    return watch;
  };

  it('watchBlob wakes when the blob is written, replaced and removed, and not while nothing changes', async () => {
    const c = await fresh();
    const watch = watchOf(store());
    await store().putBlob(c, 'w/other', 'x');
    for (const change of [
      () => store().putBlob(c, 'w/blob.json', 'one'),
      () => store().putBlob(c, 'w/blob.json', 'two'),
      () => store().removeBlob(c, 'w/blob.json'),
    ]) {
      const stop = new AbortController();
      const woken = watch(c, 'w/blob.json', stop.signal);
      try {
        expect(await settlesWithin(woken, 150)).toBe(false);
        await change();
        expect(await settlesWithin(woken, 5000)).toBe(true);
      } finally {
        stop.abort();
      }
    }
  });

  it('watchBlob wakes for a blob whose folders do not exist yet once it is written', async () => {
    const c = await fresh();
    const watch = watchOf(store());
    const stop = new AbortController();
    // The folders `deep/er` are made by the write; the wake may come from the folder (spurious,
    // allowed) or the blob: either way the caller looks again and finds it.
    let found = false;
    const looking = (async () => {
      for (let i = 0; i < 5 && !found; i++) {
        await watch(c, 'deep/er/blob.json', stop.signal);
        found = (await store().getBlob(c, 'deep/er/blob.json')) !== undefined;
      }
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await store().putBlob(c, 'deep/er/blob.json', 'here');
      expect(await settlesWithin(looking, 5000)).toBe(true);
      expect(found).toBe(true);
    } finally {
      stop.abort();
    }
  });

  it('watchBlob resolves on abort, and rejects a bad name naming the rule', async () => {
    const c = await fresh();
    const watch = watchOf(store());
    const stop = new AbortController();
    const woken = watch(c, 'idle/blob', stop.signal);
    expect(await settlesWithin(woken, 100)).toBe(false);
    stop.abort();
    expect(await settlesWithin(woken, 1000)).toBe(true);
    await expect(watch(c, '../escape', new AbortController().signal)).rejects.toSatisfy((e: unknown) =>
      VmkitError.is(e, 'INVALID_ARGUMENT'),
    );
  });
}
