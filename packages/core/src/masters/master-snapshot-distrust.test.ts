import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSystemBlobStore } from '../blobstore/file-system-blob-store.js';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { silentLogger } from '../util/logger.js';
import { cores, INDEX, ids, RECORDS, record, repo, spy, twoProcesses } from './catalogue.fixture.js';
import { MasterRepository } from './master-repository.js';

describe('snapshot distrusted', () => {
  it('when an entry does not validate, though the generation matches', async () => {
    const { a, shared, repoA } = await twoProcesses();
    const name = `${repoA.prefix}records.json`;
    const snap = JSON.parse((await (await shared.getBlob(INDEX, name))?.text()) as string);
    snap.entries[2].record.specHash = 'f'.repeat(64);
    await shared.putBlob(INDEX, name, JSON.stringify(snap));
    expect(await ids(repoA)).toHaveLength(5);
    expect(a.recordLists).toBe(1);
  });

  it('when an entry is repeated', async () => {
    const { a, shared, repoA } = await twoProcesses();
    const name = `${repoA.prefix}records.json`;
    const snap = JSON.parse((await (await shared.getBlob(INDEX, name))?.text()) as string);
    snap.entries.push(snap.entries[0]);
    await shared.putBlob(INDEX, name, JSON.stringify(snap));
    expect(await ids(repoA)).toHaveLength(5);
    expect(a.recordLists).toBe(1);
  });

  it('when the generation blob is missing (a catalogue written before generations)', async () => {
    const { a, shared, repoA } = await twoProcesses();
    await shared.removeBlob(INDEX, `${repoA.prefix}generation`);
    expect(await ids(repoA)).toHaveLength(5);
    expect(await ids(repoA)).toHaveLength(5);
    expect(a.recordLists).toBe(1);
  });

  it('when the generation blob is oversized', async () => {
    const { a, shared, repoA } = await twoProcesses();
    await shared.putBlob(INDEX, `${repoA.prefix}generation`, 'x'.repeat(10_000));
    expect(await ids(repoA)).toHaveLength(5);
    expect(a.recordLists).toBe(1);
  });

  it('when the snapshot is the old format without a generation (entity tags still reused)', async () => {
    const { a, shared, repoA } = await twoProcesses();
    const name = `${repoA.prefix}records.json`;
    const snap = JSON.parse((await (await shared.getBlob(INDEX, name))?.text()) as string);
    await shared.putBlob(INDEX, name, JSON.stringify({ schemaVersion: 1, entries: snap.entries }));
    expect(await ids(repoA)).toHaveLength(5);
    expect([a.recordLists, a.recordReads]).toEqual([1, 0]);
  });

  it('always, with trustSnapshot false', async () => {
    const { a, repoA } = await twoProcesses();
    const listing = repo(a, { trustSnapshot: false });
    expect(await ids(listing)).toHaveLength(5);
    expect(await ids(listing)).toHaveLength(5);
    expect(a.recordLists).toBe(2);
    expect(await ids(repoA)).toHaveLength(5);
    expect(a.recordLists).toBe(2);
  });
});

describe('snapshot over the filesystem store', () => {
  it('is trusted across store instances, and after a change only the changed record is read', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vmkit-snapshot-'));
    try {
      const writer = repo(fileSystemBlobStore({ root, durable: false }));
      await writer.init();
      for (let i = 0; i < 10; i++) await writer.save(record(`f-${i}`));
      await writer.loadAll();
      const reader = spy(fileSystemBlobStore({ root, durable: false }));
      expect(await ids(repo(reader))).toHaveLength(10);
      expect([reader.recordLists, reader.recordReads]).toEqual([0, 0]);
      await writer.save(record('f-4', 2));
      expect(await cores(repo(reader), 'f-4')).toBe(2);
      expect([reader.recordLists, reader.recordReads]).toEqual([1, 1]); // entity tags in the listing
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('generation namespace', () => {
  it('follows the provider namespace settled at init, like the snapshot', async () => {
    const store = memoryBlobStore();
    let id = 'learnt-later';
    const r = new MasterRepository(store, { container: RECORDS, providerId: () => id, logger: silentLogger });
    const early = r.prefix;
    id = 'libvirt:host-uuid';
    await r.init();
    expect(r.prefix).not.toBe(early);
    await r.save(record('n'));
    await r.loadAll();
    const names = (await store.list(INDEX)).items.map((i) => i.name).sort();
    expect(names).toEqual([`${r.prefix}generation`, `${r.prefix}records.json`]);
  });
});
