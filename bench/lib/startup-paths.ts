// Start-up paths side by side over one store holding many masters: the catalogue load that lists
// every record blob (the path before generations: trustSnapshot false) against the load that
// trusts the snapshot on its generation, the provider's existence check alone, and a whole
// service start-up. Shared by core.bench.ts (filesystem) and s3.bench.ts (S3 test server).
import { createComputeService, type HypervisorProvider, silentLogger } from '@vmkit/core';
import type { BlobStore } from '@vmkit/core/blobstore';
import { MasterRepository } from '@vmkit/core/internal';
import type { BenchReport } from './report.js';
import { medianMs, timeMs } from './report.js';

/** What {@link benchStartupPaths} measures over. */
export interface StartupBenchTarget {
  /** Names the store in the figures. */
  readonly label: string;
  readonly store: BlobStore;
  readonly provider: HypervisorProvider;
  readonly leaseDir: string;
  /** The goal for a whole start-up, in ms. */
  readonly goalMs: number;
  /** Runs of each path (median taken). */
  readonly runs?: number;
  /** Also time a listing without entity tags (every record read: the filesystem store before it listed them). */
  readonly untagged?: boolean;
}

/** The store with entity tags removed from its listings. */
function untaggedListings(store: BlobStore): BlobStore {
  return {
    createContainer: (c) => store.createContainer(c),
    containerExists: (c) => store.containerExists(c),
    deleteContainer: (c) => store.deleteContainer(c),
    putBlob: (c, n, b, o) => store.putBlob(c, n, b, o),
    getBlob: (c, n, o) => store.getBlob(c, n, o),
    blobExists: (c, n) => store.blobExists(c, n),
    removeBlob: (c, n) => store.removeBlob(c, n),
    list: async (c, o) => {
      const page = await store.list(c, o);
      return { ...page, items: page.items.map(({ etag: _, ...item }) => item) };
    },
  };
}

const repository = (target: StartupBenchTarget, trustSnapshot: boolean, store = target.store) =>
  new MasterRepository(store, {
    container: 'vmkit-images',
    providerId: target.provider.id,
    logger: silentLogger,
    trustSnapshot,
  });

/** Measures and reports each path; returns the whole start-up's median. */
export async function benchStartupPaths(report: BenchReport, target: StartupBenchTarget): Promise<number> {
  const runs = target.runs ?? 5;
  let count = 0;
  // A first load makes sure the snapshot is current (it lists once if it is not).
  count = (await repository(target, true).loadAll()).records.length;
  const load = async (trust: boolean, store = target.store) => {
    const { records } = await repository(target, trust, store).loadAll();
    if (records.length !== count) throw new Error(`loaded ${records.length} masters, expected ${count}`);
    return records;
  };
  const listing = await medianMs(runs, () => load(false));
  const trusted = await medianMs(runs, () => load(true));
  report.compare(
    `${target.label}: catalogue load, ${count} masters (median of ${runs})`,
    { name: 'snapshot trusted on its generation', ms: trusted },
    { name: 'every record listed, unchanged ones from the snapshot by entity tag (before)', ms: listing },
  );
  if (target.untagged) {
    const bare = untaggedListings(target.store);
    const read = await medianMs(runs, () => load(false, bare));
    report.compare(
      `${target.label}: catalogue load, ${count} masters (median of ${runs})`,
      { name: 'snapshot trusted on its generation', ms: trusted },
      { name: 'every record listed and read (a listing without entity tags)', ms: read },
    );
  }
  const refs = (await load(true)).map((r) => r.master);
  const exists = await medianMs(runs, () => target.provider.mastersExist(refs));
  report.figure({
    name: `${target.label}: provider check alone, mastersExist of ${refs.length} masters (median of ${runs})`,
    value: exists,
    unit: 'ms',
  });
  // One master saved by another process: the next start-up lists once and re-reads that one.
  const [first] = await load(true);
  if (first) await repository(target, true).save({ ...first, builtAt: new Date().toISOString() });
  const afterChange = await timeMs(() => load(true));
  report.figure({
    name: `${target.label}: first catalogue load after one master changed (lists, re-reads one)`,
    value: afterChange,
    unit: 'ms',
  });
  let available = 0;
  // The service closes its provider on close(): this one stays open for the next run and bench.
  const provider: HypervisorProvider = { ...target.provider, close: async () => {} };
  const startup = await medianMs(runs, async () => {
    const service = await createComputeService({
      provider,
      store: target.store,
      ports: { leaseDir: target.leaseDir },
    });
    available = (await service.listImages()).filter((i) => i.status === 'available').length;
    await service.close();
  });
  report.figure({
    name: `${target.label}: whole start-up (createComputeService + listImages), ${available} available (median of ${runs})`,
    value: startup,
    unit: 'ms',
    goal: { op: '<', value: target.goalMs },
  });
  return startup;
}
