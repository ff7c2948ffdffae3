import { describe, expect, it } from 'vitest';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { cores, INDEX, ids, RECORDS, record, repo, spy, twoProcesses } from './catalogue.fixture.js';

describe('snapshot trusted on its generation', () => {
  it('lists and reads no record blob when nothing changed, in this or another process', async () => {
    const { a, repoA, b, repoB } = await twoProcesses();
    expect(await ids(repoA)).toEqual(['img-0', 'img-1', 'img-2', 'img-3', 'img-4']);
    expect([a.recordLists, a.recordReads]).toEqual([0, 0]);
    expect(await ids(repoB)).toHaveLength(5);
    expect([b.recordLists, b.recordReads]).toEqual([0, 0]);
  });

  it('sees a record saved by another process, then trusts the new snapshot', async () => {
    const { a, repoA, repoB } = await twoProcesses();
    await repoB.save(record('img-2', 8));
    await repoB.save(record('new'));
    expect(await cores(repoA, 'img-2')).toBe(8);
    expect(await ids(repoA)).toContain('new');
    expect(a.recordLists).toBe(1); // the first load listed; the second trusted the rewritten snapshot
  });

  it('sees a record removed by another process', async () => {
    const { repoA, repoB } = await twoProcesses();
    await repoB.remove('img-3');
    expect(await ids(repoA)).toEqual(['img-0', 'img-1', 'img-2', 'img-4']);
  });

  it('sees a record quarantined by another process', async () => {
    const { shared, repoA, repoB } = await twoProcesses();
    // A bad blob written behind the repository's back, then found and moved aside by process b.
    await shared.putBlob(RECORDS, `${repoB.prefix}img-1.json`, '{ not json');
    expect(await repoB.get('img-1')).toBeUndefined();
    expect(await ids(repoA)).toEqual(['img-0', 'img-2', 'img-3', 'img-4']);
  });

  it('a writer that crashed between the record write and the generation bump leaves it distrusted', async () => {
    const { a, b, repoA, repoB } = await twoProcesses();
    b.beforePut = (_container, name) => {
      if (name.endsWith('/generation')) throw new Error('killed');
    };
    await expect(repoB.save(record('img-4', 16))).rejects.toThrow('killed');
    expect(await cores(repoA, 'img-4')).toBe(16);
    // The marker stays: every start-up lists again (and still sees the change) until it is stale.
    expect(await cores(repoA, 'img-4')).toBe(16);
    expect(a.recordLists).toBe(2);
  });

  it('a failed record write reports its own error; the token moves and the marker goes', async () => {
    const { a, b, repoA, repoB } = await twoProcesses();
    b.beforePut = (container) => {
      if (container === RECORDS) throw new Error('store refused the record');
    };
    await expect(repoB.save(record('img-0', 4))).rejects.toThrow('store refused the record');
    expect((await a.list(INDEX, { prefix: `${repoA.prefix}changes/` })).items).toEqual([]);
    expect(await cores(repoA, 'img-0')).toBe(1);
    expect(await cores(repoA, 'img-0')).toBe(1);
    expect(a.recordLists).toBe(1); // distrusted once (the token moved), then trusted again
    b.beforePut = (container, name) => {
      if (container === RECORDS) throw new Error('store refused the record');
      if (name.endsWith('/generation')) throw new Error('store refused the token');
    };
    await expect(repoB.save(record('img-0', 4))).rejects.toThrow('store refused the record');
    expect((await a.list(INDEX, { prefix: `${repoA.prefix}changes/` })).items).toHaveLength(1);
  });

  it('a writer that crashed after the bump, before removing its marker, is seen', async () => {
    const shared = memoryBlobStore();
    const repoA = repo(shared);
    await repoA.init();
    await repoA.save(record('x'));
    await repoA.loadAll();
    const b = spy(shared);
    const removeBlob = b.removeBlob;
    b.removeBlob = async (container, name) => {
      if (name.includes('/changes/')) throw new Error('killed');
      return removeBlob(container, name);
    };
    await expect(repo(b).save(record('x', 2))).rejects.toThrow('killed');
    expect(await cores(repoA, 'x')).toBe(2);
  });

  it('removes a dead writer marker once stale, and trusts the snapshot again', async () => {
    const { a, b, repoA, repoB } = await twoProcesses();
    b.beforePut = (_container, name) => {
      if (name.endsWith('/generation')) throw new Error('killed');
    };
    await expect(repoB.save(record('img-1', 3))).rejects.toThrow('killed');
    const later = repo(a, { now: () => Date.now() + 11 * 60_000 });
    expect(await cores(later, 'img-1')).toBe(3); // reaped, listed
    a.recordLists = 0;
    expect(await cores(later, 'img-1')).toBe(3);
    expect(await cores(repoA, 'img-1')).toBe(3);
    expect(a.recordLists).toBe(0);
  });

  it('does not reap a marker younger than the stale limit', async () => {
    const { a, b, repoA, repoB } = await twoProcesses();
    b.beforePut = (_container, name) => {
      if (name.endsWith('/generation')) throw new Error('killed');
    };
    await expect(repoB.save(record('img-1', 3))).rejects.toThrow('killed');
    await repoA.loadAll();
    const markers = await a.list(INDEX, { prefix: `${repoA.prefix}changes/` });
    expect(markers.items).toHaveLength(1);
  });

  it('a change made while a start-up reads the records distrusts the snapshot that start-up writes', async () => {
    const shared = memoryBlobStore();
    const a = spy(shared);
    const repoA = repo(a);
    await repoA.init();
    await repoA.save(record('y'));
    a.afterRecordRead = async () => {
      a.afterRecordRead = undefined;
      await repo(shared).save(record('y', 7)); // a has read y with 1 core; its snapshot says so
    };
    expect(await cores(repoA, 'y')).toBe(1);
    a.recordLists = 0;
    expect(await cores(repoA, 'y')).toBe(7);
    expect(a.recordLists).toBe(1);
  });

  it('a change that starts before a start-up and lands after its listing is still seen', async () => {
    const shared = memoryBlobStore();
    const a = spy(shared);
    const repoA = repo(a);
    await repoA.init();
    await repoA.save(record('z'));
    await repoA.loadAll();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let waiting: () => void = () => {};
    const atGate = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const slow = spy(shared);
    slow.putBlob = async (container, name, body, options) => {
      if (container === RECORDS) {
        waiting();
        await gate; // the marker is written; the record waits
      }
      return shared.putBlob(container, name, body, options);
    };
    const writing = repo(slow).save(record('z', 5));
    await atGate;
    expect(await cores(repoA, 'z')).toBe(1); // the change has not landed: the old record is right
    release();
    await writing;
    expect(await cores(repoA, 'z')).toBe(5);
  });
});
