import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { settlesWithin } from '../contract/blob-store-watch-contract.js';
import { fileSystemBlobStore } from './file-system-blob-store.js';

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** Two stores on one root, as two processes of a fleet on one machine see it. */
async function twoStores() {
  const root = await mkdtemp(join(tmpdir(), 'vmkit-fswatch-'));
  roots.push(root);
  const watcher = fileSystemBlobStore({ root });
  const writer = fileSystemBlobStore({ root });
  await watcher.createContainer('c');
  return { watcher, writer, watch: watcher.watchBlob?.bind(watcher) };
}

describe('fileSystemBlobStore watchBlob', () => {
  it('wakes on a write by another store on the same root, not on other blobs of the folder', async () => {
    const { writer, watch } = await twoStores();
    expect(watch).toBeTypeOf('function');
    await writer.putBlob('c', 'masters/a.json', 'a');
    const stop = new AbortController();
    const woken = watch?.('c', 'masters/b.json', stop.signal) as Promise<void>;
    try {
      // Neighbours come and go: the watcher of b sleeps on.
      await writer.putBlob('c', 'masters/c.json', 'c');
      await writer.putBlob('c', 'masters/b/disk-1.qcow2', 'disk');
      await writer.removeBlob('c', 'masters/a.json');
      expect(await settlesWithin(woken, 300)).toBe(false);
      await writer.putBlob('c', 'masters/b.json', 'published');
      // The event comes with the rename (a bound wide enough for a loaded machine).
      expect(await settlesWithin(woken, 2000)).toBe(true);
    } finally {
      stop.abort();
    }
  });

  it('wakes when its folder is pruned (the last blob of it removed), so the caller watches anew', async () => {
    const { writer, watch } = await twoStores();
    await writer.putBlob('c', 'only/one', 'x');
    const stop = new AbortController();
    const woken = watch?.('c', 'only/two', stop.signal) as Promise<void>;
    try {
      expect(await settlesWithin(woken, 150)).toBe(false);
      await writer.removeBlob('c', 'only/one'); // the store drops the empty folder `only`
      expect(await settlesWithin(woken, 2000)).toBe(true);
    } finally {
      stop.abort();
    }
  });

  it('closing the store wakes its watchers, and a closed store wakes them at once', async () => {
    const { watcher, watch } = await twoStores();
    const stop = new AbortController();
    const woken = watch?.('c', 'x', stop.signal) as Promise<void>;
    expect(await settlesWithin(woken, 100)).toBe(false);
    await watcher.close();
    expect(await settlesWithin(woken, 1000)).toBe(true);
    expect(await settlesWithin(watch?.('c', 'x', stop.signal) as Promise<void>, 100)).toBe(true);
    stop.abort();
  });
});
