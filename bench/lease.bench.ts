// Build-lease figures on the filesystem store: what a lease adds to a build nobody contends,
// how soon a waiter takes a released lease, and how soon after expiry a dead holder's lease is
// taken over (the TTL itself is the caller's choice: this measures the overshoot beyond it).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { BuildLeases, buildLeaseKey } from '@vmkit/core/internal';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const NS = 'p-bench';
const TTL = 1000;
const request = { imageId: 'img', specHash: 'h', masterName: 'vmkit-img-00000000-0000' };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export default async function leaseBench(report: BenchReport): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-lease-'));
  try {
    const store = fileSystemBlobStore({ root: join(dir, 'store') });
    const party = () =>
      new BuildLeases(
        store,
        { container: 'leases', namespace: NS },
        { ttlMs: TTL, renewMs: 250 },
        silentLogger,
      );
    const a = party();
    const b = party();
    await a.init();

    report.section('build lease: filesystem store (durable)');
    const free: number[] = [];
    for (let i = 0; i < 20; i++) free.push(await timeMs(async () => (await a.acquire(request)).release()));
    report.figure({
      name: 'take and release a free lease',
      value: median(free),
      unit: 'ms',
      goal: { op: '<', value: 50 },
    });

    const handover: number[] = [];
    for (let i = 0; i < 10; i++) {
      const held = await a.acquire(request);
      const waiting = b.acquire(request);
      await new Promise((r) => setTimeout(r, 300 + 97 * i)); // the waiter is somewhere in its backoff
      const released = performance.now();
      await held.release();
      await (await waiting).release();
      handover.push(performance.now() - released);
    }
    report.figure({
      name: 'waiter takes a released lease after',
      value: median(handover),
      unit: 'ms',
      note: 'median of 10; bounded by the poll backoff (at most 2 s, or renewMs)',
    });

    const overshoot: number[] = [];
    for (let i = 0; i < 5; i++) {
      const key = buildLeaseKey(NS, request.imageId);
      const expiresAt = Date.now() + TTL;
      const record = {
        schemaVersion: 1,
        ...request,
        holder: { hostname: 'dead', pid: 1, id: 'x' },
        generation: 1,
        expiresAt: new Date(expiresAt).toISOString(),
      };
      await store.putBlob('leases', `${key}000000000001.json`, JSON.stringify(record));
      await (await b.acquire(request)).release();
      overshoot.push(Date.now() - expiresAt);
    }
    report.figure({
      name: `dead holder taken over after expiry (TTL ${TTL} ms) plus`,
      value: median(overshoot),
      unit: 'ms',
      goal: { op: '<', value: 300 },
      note: 'median of 5; takeover = time since the last renewal up to the TTL, plus this',
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
