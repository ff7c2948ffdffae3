import { describe, expect, it, vi } from 'vitest';
import { listAll } from '../blobstore/blob-store.js';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { sleep } from '../util/abort.js';
import { silentLogger } from '../util/logger.js';
import type { ProgressEvent } from '../util/progress.js';
import { settledWithoutTime } from '../util/settled-without-time.fixture.js';
import { BuildLeases } from './build-lease.js';
import { buildLeaseKey, leaseBlobName, resolveBuildLeaseOptions } from './build-lease-options.js';
import type { LeaseRecord } from './lease-record.js';
import { observedStore } from './observed-store.fixture.js';

const C = 'leases';
const NS = 'p-0123456789abcdef';
const request = { imageId: 'img', specHash: 'a'.repeat(64), masterName: 'vmkit-img-aaaaaaaa-0001' };

function leases(store = memoryBlobStore(), options = { ttlMs: 1000, renewMs: 200 }) {
  return new BuildLeases(
    store,
    { container: C, namespace: NS },
    resolveBuildLeaseOptions(options),
    silentLogger,
  );
}

async function names(store: ReturnType<typeof memoryBlobStore>): Promise<string[]> {
  const found: string[] = [];
  for await (const item of listAll(store, C)) found.push(item.name);
  return found;
}

/** Writes a lease as a process that then died would have left it. */
async function plantLease(
  store: ReturnType<typeof memoryBlobStore>,
  generation: number,
  expiresInMs: number,
): Promise<void> {
  const record: LeaseRecord = {
    schemaVersion: 1,
    ...request,
    masterName: 'vmkit-img-aaaaaaaa-dead',
    holder: { hostname: 'gone', pid: 1, id: 'dead' },
    generation,
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
  };
  await store.putBlob(C, leaseBlobName(buildLeaseKey(NS, 'img'), generation), JSON.stringify(record));
}

describe('BuildLeases', () => {
  it('lets one of many concurrent takers hold the lease at a time', async () => {
    const store = memoryBlobStore();
    const parties = Array.from({ length: 6 }, () => leases(store));
    await parties[0]?.init();
    let holding = 0;
    let most = 0;
    await Promise.all(
      parties.map(async (p) => {
        const lease = await p.acquire(request);
        holding++;
        most = Math.max(most, holding);
        await new Promise((r) => setTimeout(r, 20));
        holding--;
        await lease.release();
      }),
    );
    expect(most).toBe(1);
    expect(await names(store)).toEqual([]);
  });

  it('makes a waiter report who holds the lease, then hands it over on release', async () => {
    const store = memoryBlobStore();
    const a = leases(store);
    const b = leases(store);
    await a.init();
    const held = await a.acquire(request);
    const events: ProgressEvent[] = [];
    let reported!: () => void;
    const waitingSeen = new Promise<void>((r) => {
      reported = r;
    });
    let got = false;
    const waiting = b
      .acquire(request, {
        onProgress: (e) => {
          events.push(e);
          reported();
        },
      })
      .then((lease) => {
        got = true;
        return lease;
      });
    await Promise.race([waitingSeen, waiting]);
    expect(got).toBe(false);
    expect(events[0]?.phase).toBe('build');
    expect(events[0]?.message).toContain(
      `pid ${process.pid} (${a.holder.id}) building ${request.masterName}`,
    );
    await held.release();
    const second = await waiting;
    expect(second.record.holder.id).toBe(b.holder.id);
    await second.release();
  });

  it('keeps a lease alive past its TTL by renewing it, so nobody takes it over', async () => {
    const store = memoryBlobStore();
    const a = leases(store);
    await a.init();
    const held = await a.acquire(request);
    const first = held.record;
    // Until the first generation's own expiry has passed (the 1000 ms TTL).
    while (Date.now() <= Date.parse(first.expiresAt))
      await sleep(Date.parse(first.expiresAt) - Date.now() + 1);
    expect(held.lost.aborted).toBe(false);
    expect(held.record.generation).toBeGreaterThan(first.generation);
    expect((await a.live()).map((l) => l.holder.id)).toEqual([a.holder.id]);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await expect(leases(store).acquire(request, { signal: controller.signal })).rejects.toSatisfy((e) =>
      VmkitError.is(e, 'ABORTED'),
    );
    await held.release();
  });

  it('takes over a lapsed lease, and of racing takers exactly one wins', async () => {
    const store = memoryBlobStore();
    await store.createContainer(C);
    await plantLease(store, 7, -1);
    const parties = Array.from({ length: 5 }, () => leases(store));
    const controller = new AbortController();
    // Each loser, having lost its write, reports the winner as the holder it waits for.
    const waiters = new Set<number>();
    let allWaiting!: () => void;
    const losersWaiting = new Promise<void>((r) => {
      allWaiting = r;
    });
    const tries = parties.map((p, i) =>
      p.acquire(request, {
        signal: controller.signal,
        onProgress: (e) => {
          if (!/^waiting for the build lease held by .* building vmkit-img-aaaaaaaa-0001$/.test(e.message))
            return;
          waiters.add(i);
          if (waiters.size === parties.length - 1) allWaiting();
        },
      }),
    );
    const first = await Promise.race(tries);
    expect(first.record.generation).toBe(8);
    await Promise.race([losersWaiting, Promise.allSettled(tries)]); // (all settled: several won)
    controller.abort();
    const outcomes = await Promise.allSettled(tries);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(await names(store)).toEqual([leaseBlobName(buildLeaseKey(NS, 'img'), first.record.generation)]);
    await first.release();
  });

  it('aborts the holder whose lease another process took over', async () => {
    const store = memoryBlobStore();
    const a = leases(store);
    await a.init();
    const held = await a.acquire(request);
    // Another process judged the lease lapsed and wrote the next generation first.
    await plantLease(store, held.record.generation + 1, 60_000);
    await expect.poll(() => held.lost.aborted).toBe(true);
    expect(VmkitError.is(held.lost.reason, 'CONFLICT')).toBe(true);
    await held.release(); // leaves the taker's lease alone
    expect((await a.live()).map((l) => l.holder.id)).toEqual(['dead']);
  });

  it('returns at once when a waiter is aborted in its backoff, and leaves the holder its lease', async () => {
    const store = memoryBlobStore();
    await store.createContainer(C);
    await plantLease(store, 1, 60_000);
    const before = await names(store);
    const controller = new AbortController();
    const events: ProgressEvent[] = [];
    // The clock and timers are fake: a backoff step ends only when the test moves time, so the
    // abort alone can end the wait (no bound on real time that a loaded machine could break).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const waiting = leases(store, { ttlMs: 60_000, renewMs: 15_000 }).acquire(request, {
        signal: controller.signal,
        onProgress: (e) => events.push(e),
      });
      // Several looks; now in a step of about a second (a quarter of the time waited).
      await vi.advanceTimersByTimeAsync(4_000);
      expect(events.map((e) => e.message)).toEqual([
        'waiting for the build lease held by gone pid 1 (dead) building vmkit-img-aaaaaaaa-dead',
      ]);
      controller.abort();
      const settled = await settledWithoutTime(waiting);
      expect(VmkitError.is(settled, 'ABORTED')).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    expect(await names(store)).toEqual(before);
  });

  it('counts a corrupt lease blob as lapsed and removes lapsed leases on request', async () => {
    const store = memoryBlobStore();
    await store.createContainer(C);
    await store.putBlob(C, leaseBlobName(buildLeaseKey(NS, 'img'), 3), '{"schemaVersion":1,"imageId":');
    await store.putBlob(C, leaseBlobName(buildLeaseKey(NS, 'other'), 1), 'x'.repeat(20_000));
    const party = leases(store);
    expect(await party.live()).toEqual([]);
    expect(await party.removeStale()).toBe(2);
    expect(await names(store)).toEqual([]);
    const held = await party.acquire(request);
    expect(held.record.generation).toBe(1);
    await held.release();
  });

  it('checks its options, naming the bad one', () => {
    expect(resolveBuildLeaseOptions(undefined)).toEqual({ ttlMs: 60_000, renewMs: 15_000 });
    expect(resolveBuildLeaseOptions({ ttlMs: 4000 })).toEqual({ ttlMs: 4000, renewMs: 1000 });
    expect(() => resolveBuildLeaseOptions({ ttlMs: 10 })).toThrow(/buildLease.ttlMs: must be an integer/);
    expect(() => resolveBuildLeaseOptions({ ttlMs: 3000, renewMs: 1500 })).toThrow(
      /buildLease.renewMs: must be at most a third of buildLease.ttlMs/,
    );
  });

  it('ends a wait as soon as what it watches is done, while the holder still holds the lease, without listing at each poll', async () => {
    const store = memoryBlobStore();
    let lists = 0;
    const counted = observedStore(store, (method) => {
      if (method === 'list') lists++;
    });
    // Fake time: "as soon as" is one watch pause (200 ms this early in the wait), however loaded.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    try {
      const holder = leases(store, { ttlMs: 6000, renewMs: 1500 });
      await holder.init();
      const held = await holder.acquire(request);
      let done = false;
      let asked = 0;
      const waiting = leases(counted, { ttlMs: 6000, renewMs: 1500 }).acquireUnless(request, async () => {
        asked++;
        return done;
      });
      await vi.advanceTimersByTimeAsync(1200);
      expect(await settledWithoutTime(waiting)).toBe('still waiting');
      done = true; // e.g. the master was published; the holder has not released yet
      await vi.advanceTimersByTimeAsync(200);
      expect(await settledWithoutTime(waiting)).toBeUndefined();
      expect(held.lost.aborted).toBe(false);
      expect(asked).toBeGreaterThan(3);
      expect(lists).toBeLessThanOrEqual(2);
      await held.release();
    } finally {
      vi.useRealTimers();
    }
  });

  it('with a wake-up (a store that watches), ends the wait on the change itself, with no pause, asking rarely meanwhile', async () => {
    const store = memoryBlobStore();
    await store.createContainer('pub');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    try {
      const holder = leases(store, { ttlMs: 6000, renewMs: 1500 });
      await holder.init();
      const held = await holder.acquire(request);
      let asked = 0;
      let armed = 0;
      let watching = 0;
      const published = Object.assign(
        async () => {
          asked++;
          return (await store.getBlob('pub', 'record.json')) !== undefined;
        },
        {
          changed: (signal: AbortSignal) => {
            armed++;
            watching++;
            signal.addEventListener('abort', () => watching--, { once: true });
            return store.watchBlob?.('pub', 'record.json', signal) as Promise<void>;
          },
        },
      );
      const waiting = leases(store, { ttlMs: 6000, renewMs: 1500 }).acquireUnless(request, published);
      await vi.advanceTimersByTimeAsync(1700);
      expect(await settledWithoutTime(waiting)).toBe('still waiting');
      // Without the wake-up it asks every 200 ms (8 times by now); woken, once a second.
      expect(asked).toBeLessThanOrEqual(3);
      // One watch, armed before the first look and kept across the polls since (none fired).
      expect([armed, watching]).toEqual([1, 1]);
      await store.putBlob('pub', 'record.json', '{}');
      // No time passes: the write itself ended the pause.
      expect(await settledWithoutTime(waiting)).toBeUndefined();
      expect(watching).toBe(0);
      expect(held.lost.aborted).toBe(false);
      await held.release();
    } finally {
      vi.useRealTimers();
    }
  });

  it('with a wake-up that fails at once, keeps its own pace (no spinning) and arms again at each look', async () => {
    const store = memoryBlobStore();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    try {
      const holder = leases(store, { ttlMs: 6000, renewMs: 1500 });
      await holder.init();
      const held = await holder.acquire(request);
      let asked = 0;
      let armed = 0;
      const never = Object.assign(
        async () => {
          asked++;
          return false;
        },
        {
          changed: async () => {
            armed++;
            throw new Error('watch failed');
          },
        },
      );
      const stop = new AbortController();
      const waiting = leases(store, { ttlMs: 6000, renewMs: 1500 })
        .acquireUnless(request, never, { signal: stop.signal })
        .catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(1700);
      // A waiter's own pace (at most once a second with a watch armed), not a tight loop.
      expect(asked).toBeGreaterThanOrEqual(2);
      expect(asked).toBeLessThanOrEqual(10);
      expect(armed).toBeLessThanOrEqual(asked + 1);
      stop.abort();
      expect(VmkitError.is(await waiting, 'ABORTED')).toBe(true);
      await held.release();
    } finally {
      vi.useRealTimers();
    }
  });

  it('takes a free lease with one create-only write and one listing to confirm it', async () => {
    const store = memoryBlobStore();
    const calls: string[] = [];
    const counted = observedStore(store, (method) => {
      if (method === 'list' || method === 'putBlob' || method === 'getBlob') calls.push(method);
    });
    const party = leases(counted);
    await party.init();
    const lease = await party.acquire(request);
    expect(calls).toEqual(['putBlob', 'list']);
    await lease.release();
  });
});
