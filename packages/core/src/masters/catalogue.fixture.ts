// Helpers of the snapshot trust tests: records, a spying store, two processes over one store.
import type { BlobBody, BlobStore, ListOptions, PutBlobOptions } from '../blobstore/blob-store.js';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import type { MasterSpec } from '../model/master-spec.js';
import { specHash } from '../util/canonical-json.js';
import { silentLogger } from '../util/logger.js';
import type { MasterRecord } from './master-record.js';
import { MasterRepository, type MasterRepositoryOptions } from './master-repository.js';

/** The records container. */
export const RECORDS = 'vmkit-images';
/** The index container (snapshot, generation, change markers). */
export const INDEX = 'vmkit-images-index';

/** A valid record of image `id`. */
export const record = (id: string, cores = 1): MasterRecord => {
  const spec: MasterSpec = {
    id,
    os: { family: 'debian', version: '12', arch: 'x86_64' },
    source: { type: 'kernel', kernel: '/k', initrd: '/i' },
    hardware: { cores },
  };
  return {
    schemaVersion: 1,
    imageId: id,
    specHash: specHash(spec),
    spec,
    master: { id: `vmkit-${id}-00000000-0000` },
    providerId: 'p',
    builtAt: new Date().toISOString(),
    buildMs: 1,
  };
};

/** A store that counts record listings and reads, and can fail (a "crash") on chosen writes. */
export interface Spy extends BlobStore {
  recordLists: number;
  recordReads: number;
  /** Called before each put; throwing stops the writer there, as a crash would. */
  beforePut?: (container: string, name: string) => void;
  /** Called after each read of a record blob. */
  afterRecordRead?: () => Promise<void>;
}

export function spy(store: BlobStore): Spy {
  const s: Spy = {
    ...store,
    recordLists: 0,
    recordReads: 0,
    async getBlob(container: string, name: string, options?: { signal?: AbortSignal }) {
      if (container !== RECORDS) return store.getBlob(container, name, options);
      s.recordReads++;
      const blob = await store.getBlob(container, name, options);
      await s.afterRecordRead?.();
      return blob;
    },
    async list(container: string, options?: ListOptions) {
      if (container === RECORDS) s.recordLists++;
      return store.list(container, options);
    },
    async putBlob(container: string, name: string, body: BlobBody, options?: PutBlobOptions) {
      s.beforePut?.(container, name);
      return store.putBlob(container, name, body, options);
    },
  };
  return s;
}

/** A repository as a compute service makes it. */
export const repo = (store: BlobStore, extra: Partial<MasterRepositoryOptions> = {}) =>
  new MasterRepository(store, { container: RECORDS, providerId: 'p', logger: silentLogger, ...extra });

/** The image ids a start-up loads, sorted. */
export const ids = async (r: MasterRepository) => (await r.loadAll()).records.map((x) => x.imageId).sort();
/** The cores of image `id` as a start-up loads it. */
export const cores = async (r: MasterRepository, id: string) =>
  (await r.loadAll()).records.find((x) => x.imageId === id)?.spec.hardware?.cores;

/** Two processes over one store, `a` holding a snapshot at the current generation. */
export async function twoProcesses() {
  const shared = memoryBlobStore();
  const a = spy(shared);
  const b = spy(shared);
  const repoA = repo(a);
  const repoB = repo(b);
  await repoA.init();
  for (let i = 0; i < 5; i++) await repoA.save(record(`img-${i}`));
  await repoA.loadAll(); // reads every record, writes the snapshot
  a.recordLists = 0;
  a.recordReads = 0;
  return { shared, a, b, repoA, repoB };
}
