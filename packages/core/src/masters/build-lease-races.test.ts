import { describe, expect, it, vi } from 'vitest';
import { type BlobStore, listAll } from '../blobstore/blob-store.js';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { sleep } from '../util/abort.js';
import { silentLogger } from '../util/logger.js';
import { settledWithoutTime } from '../util/settled-without-time.fixture.js';
import { BuildLeases } from './build-lease.js';
import { buildLeaseKey, leaseBlobName, resolveBuildLeaseOptions } from './build-lease-options.js';

const C = 'leases';
const NS = 'shared';
const KEY = buildLeaseKey(NS, 'img');
const request = { imageId: 'img', specHash: 'a'.repeat(64), masterName: 'vmkit-img-aaaaaaaa-0001' };

/** A store call about to run (`after`: it ran), for a test to race or fail. */
type Hook = (call: { op: string; name?: string; after: boolean; store: BlobStore }) => Promise<void> | void;

/** A memory store whose calls pass through `hook` before and after they run. */
function racingStore(hook: Hook): BlobStore {
  const inner = memoryBlobStore();
  const wrap =
    <A extends unknown[], R>(
      op: string,
      call: (...args: A) => Promise<R>,
      nameOf: (...args: A) => string | undefined,
    ) =>
    async (...args: A): Promise<R> => {
      await hook({ op, name: nameOf(...args), after: false, store: inner });
      const result = await call(...args);
      await hook({ op, name: nameOf(...args), after: true, store: inner });
      return result;
    };
  return {
    ...inner,
    putBlob: wrap('put', inner.putBlob, (_c, n) => n),
    getBlob: wrap('get', inner.getBlob, (_c, n) => n),
    removeBlob: wrap('remove', inner.removeBlob, (_c, n) => n),
    list: wrap('list', inner.list, (_c, o) => o?.prefix),
  };
}

const transient = () => new VmkitError('STORE', 'injected: ECONNRESET', { retryable: true });

function party(store: BlobStore, options = { ttlMs: 1000, renewMs: 200 }): BuildLeases {
  return new BuildLeases(
    store,
    { container: C, namespace: NS },
    resolveBuildLeaseOptions(options),
    silentLogger,
  );
}

async function names(store: BlobStore): Promise<string[]> {
  const found: string[] = [];
  for await (const item of listAll(store, C)) found.push(item.name);
  return found;
}

describe('BuildLeases under contention', () => {
  it('tries every step again after a retryable store failure instead of failing', async () => {
    const failures = new Map<string, number>();
    const store = racingStore(({ op, after }) => {
      const seen = failures.get(op) ?? 0;
      // The first two calls of each kind fail: listing, reading, writing and removing generations.
      if (!after && seen < 2) {
        failures.set(op, seen + 1);
        throw transient();
      }
    });
    await store.createContainer(C);
    const a = party(store);
    const held = await a.acquire(request);
    // Two renewals ran (writes and removals), or the lease was lost.
    while (held.record.generation < 3 && !held.lost.aborted) await sleep(10);
    expect(held.lost.aborted).toBe(false);
    // Released once the second party waits (it read the held generation), so every kind of call ran.
    let waits: () => void = () => {};
    const seen = new Promise<void>((resolve) => {
      waits = resolve;
    });
    const waiting = party(store).acquire(request, { onProgress: () => waits() });
    await seen;
    await held.release();
    await (await waiting).release();
    expect([...failures.values()]).toEqual([2, 2, 2, 2]);
    expect(await names(store)).toEqual([]);
  });

  it('holds a lease whose create-only write landed although its answer was lost', async () => {
    let lost = false;
    const store = racingStore(({ op, name, after }) => {
      if (op === 'put' && after && name?.startsWith(KEY) && !lost) {
        lost = true;
        throw transient(); // written, but the caller hears a failure and writes again: CONFLICT
      }
    });
    await store.createContainer(C);
    const t0 = performance.now();
    const held = await party(store, { ttlMs: 60_000, renewMs: 15_000 }).acquire(request);
    expect(performance.now() - t0).toBeLessThan(30_000); // not after the 60 s TTL, waiting for itself
    expect(lost).toBe(true);
    expect(await names(store)).toEqual([leaseBlobName(KEY, 1)]);
    await held.release();
  });

  it('tries again after losing a create-only write, a vanished lease folder or a record gone before it is read', async () => {
    let step = 0;
    const rival = { ...request, holder: { hostname: 'b', pid: 2, id: 'rival' }, schemaVersion: 1 };
    const store = racingStore(async ({ op, name, after, store: inner }) => {
      if (op === 'put' && !after && name === leaseBlobName(KEY, 1) && step === 0) {
        step = 1; // another host writes generation 1 first, and releases it soon after
        const record = { ...rival, generation: 1, expiresAt: new Date(Date.now() + 60_000).toISOString() };
        await inner.putBlob(C, name, JSON.stringify(record));
        setTimeout(() => void inner.removeBlob(C, name), 300);
      } else if (op === 'list' && after && step === 1 && (await names(inner)).length > 0) {
        step = 2; // listed, then the holder released and its folder went before the read
        await inner.removeBlob(C, leaseBlobName(KEY, 1));
      }
    });
    await store.createContainer(C);
    const held = await party(store).acquire(request);
    expect(step).toBe(2);
    expect(held.record.holder.id).not.toBe('rival');
    await held.release();
  });

  it('ends its retries as soon as the caller aborts', async () => {
    let lists = 0;
    const store = racingStore(({ op }) => {
      if (op !== 'list') return;
      lists++;
      throw transient();
    });
    await store.createContainer(C);
    const controller = new AbortController();
    // Fake clock and timers: a retry's pause ends only when the test moves time, so the abort
    // alone can end the call (no bound on real time that a loaded machine could break).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const acquiring = party(store).acquire(request, { signal: controller.signal });
      // Pauses of 25-50 ms, then 50-100 ms: at 60 ms the second look failed, the third waits.
      await vi.advanceTimersByTimeAsync(60);
      expect(lists).toBe(2);
      controller.abort();
      expect(VmkitError.is(await settledWithoutTime(acquiring), 'ABORTED')).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
