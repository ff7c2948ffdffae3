import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../blobstore/blob-store.js';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { sleep } from '../util/abort.js';
import { silentLogger } from '../util/logger.js';
import { BuildLeases } from './build-lease.js';
import { resolveBuildLeaseOptions } from './build-lease-options.js';

const request = { imageId: 'img', specHash: 'a'.repeat(64), masterName: 'vmkit-img-aaaaaaaa-0001' };
const options = { ttlMs: 2000, renewMs: 600 };

/** A memory store whose every call answers `latency.ms` late, as an overloaded server queues them. */
function slowStore(latency: { ms: number }): BlobStore {
  const inner = memoryBlobStore();
  return new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await sleep(latency.ms);
        return value.apply(target, args);
      };
    },
  });
}

function party(store: BlobStore): BuildLeases {
  return new BuildLeases(
    store,
    { container: 'leases', namespace: 'p-slow' },
    resolveBuildLeaseOptions(options),
    silentLogger,
  );
}

describe('HeldLease on a store that answers slowly', () => {
  it('keeps a lease whose every store call takes a quarter of its TTL, and nobody takes it over', async () => {
    // 500 ms a call, TTL 2 s: taking the lease (a write, a listing to confirm) takes 1 s of it.
    const store = slowStore({ ms: 500 });
    const holder = party(store);
    await holder.init();
    const held = await holder.acquire(request);
    const other = party(store);
    const waiting = new AbortController();
    const taken = other.acquire(request, { signal: waiting.signal });
    // Renewed past two TTLs (a renewal every 600 ms).
    await expect
      .poll(() => (held.lost.aborted ? -1 : held.record.generation), { timeout: 15_000 })
      .toBeGreaterThan(6);
    expect(held.lost.aborted).toBe(false);
    waiting.abort();
    await expect(taken).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
    await held.release();
  });

  it('gives the lease up by its deadline once the store stops answering in time, not when a renewal answers late', async () => {
    const latency = { ms: 5 };
    const store = slowStore(latency);
    const holder = party(store);
    await holder.init();
    const held = await holder.acquire(request);
    await expect.poll(() => held.record.generation, { timeout: 5000 }).toBeGreaterThan(1);
    // From now on every call takes 3 s: no renewal can land within the 2 s TTL.
    latency.ms = 3000;
    const slowFrom = Date.now();
    let lostAt = Number.POSITIVE_INFINITY;
    held.lost.addEventListener('abort', () => {
      lostAt = Date.now();
    });
    await expect.poll(() => held.lost.aborted, { timeout: 15_000 }).toBe(true);
    expect(VmkitError.is(held.lost.reason, 'CONFLICT')).toBe(true);
    // The last renewal that landed started before `slowFrom`: its generation lapses within 2 s.
    expect(lostAt - slowFrom).toBeLessThanOrEqual(2000 + 300);
    latency.ms = 5;
    await held.release();
  });
});
