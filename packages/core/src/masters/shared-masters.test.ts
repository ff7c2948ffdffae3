import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../blobstore/blob-store.js';
import { fileSystemBlobStore } from '../blobstore/file-system-blob-store.js';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { createComputeService } from '../compute/create-compute-service.js';
import { debianSpec } from '../compute/service.fixture.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { memoryMasterDisk } from '../testing/memory-master-export.js';
import { memoryProvider } from '../testing/memory-provider.js';
import { specHash } from '../util/canonical-json.js';
import type { Logger } from '../util/logger.js';
import type { ProgressEvent } from '../util/progress.js';
import { validators } from '../validation/load-validators.js';
import { observedStore } from './observed-store.fixture.js';
import { type SharedMasterRecord, sharedDiskName, sharedRecordName } from './shared-master-record.js';
import { SharedMasters } from './shared-masters.js';

const SHARED = 'vmkit-images-shared';
const spec = debianSpec();

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => {};
  return {
    warnings,
    debug: noop,
    info: noop,
    error: noop,
    warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields ?? {})}`),
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-shared-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function host(store: BlobStore, name: string, logger: Logger = recordingLogger()) {
  const provider = memoryProvider({ id: `memory:${name}` });
  const service = await createComputeService({
    provider,
    store,
    images: [spec],
    shareMasters: true,
    logger,
    ports: { leaseDir: join(dir, `leases-${name}`), probe: false },
  });
  return { provider, service };
}

async function sharedRecord(store: BlobStore): Promise<SharedMasterRecord> {
  const hash = specHash(validators().checkMasterSpec(spec, 'spec'));
  const blob = await store.getBlob(SHARED, sharedRecordName(hash));
  if (!blob) throw new Error('no shared record');
  return JSON.parse(await blob.text()) as SharedMasterRecord;
}

/** Replaces the shared disk with other bytes under a record whose digest matches them. */
async function republish(store: BlobStore, bytes: Uint8Array, keepDigest = false): Promise<void> {
  const record = await sharedRecord(store);
  const sha256 = keepDigest ? record.sha256 : createHash('sha256').update(bytes).digest('hex');
  const blob = sharedDiskName(record.specHash, sha256, record.format);
  await store.putBlob(SHARED, blob, bytes);
  await store.putBlob(SHARED, sharedRecordName(record.specHash), JSON.stringify({ ...record, sha256, blob }));
}

describe.each([
  ['filesystem', () => fileSystemBlobStore({ root: join(dir, 'store'), durable: false })],
  ['memory', () => memoryBlobStore()],
])('shareMasters over the %s store', (_name, makeStore) => {
  it('publishes the disk a host builds: record with sha256, size and compression, blob with those bytes', async () => {
    const store = makeStore();
    const a = await host(store, 'a');
    const events: ProgressEvent[] = [];
    await a.service.ensureImage(spec.id, { onProgress: (e) => events.push(e) });
    expect(a.provider.stats.builds).toBe(1);
    const record = await sharedRecord(store);
    const [master] = a.provider.masterNames();
    const disk = memoryMasterDisk(master as string);
    expect(record).toMatchObject({
      format: 'raw',
      compression: 'none',
      size: disk.length,
      sha256: createHash('sha256').update(disk).digest('hex'),
      publishedBy: 'memory:a',
      imageId: spec.id,
    });
    const blob = await store.getBlob(SHARED, record.blob);
    expect(Buffer.from((await blob?.bytes()) ?? []).equals(disk)).toBe(true);
    expect(events.some((e) => e.phase === 'transfer' && e.step === 'publish' && e.fraction === 1)).toBe(true);
    await a.service.close();
  });

  it('a second host downloads, verifies and registers the master: zero builds, nodes clone from it', async () => {
    const store = makeStore();
    const a = await host(store, 'a');
    await a.service.ensureImage(spec.id);
    const b = await host(store, 'b');
    const events: ProgressEvent[] = [];
    const image = await b.service.ensureImage(spec.id, { onProgress: (e) => events.push(e) });
    expect(image.status).toBe('available');
    expect(b.provider.stats.builds).toBe(0);
    expect(b.provider.stats.imports).toBe(1);
    expect(b.provider.masterNames()).toHaveLength(1);
    expect(events.some((e) => e.step === 'download' && e.fraction === 1)).toBe(true);
    const nodes = await b.service.createNodesInGroup('web', 1);
    expect(nodes[0]?.status).toBe('running');
    // B adopted, it did not publish again: the record is still A's.
    expect((await sharedRecord(store)).publishedBy).toBe('memory:a');
    await a.service.close();
    await b.service.close();
  });

  it('a corrupted disk blob (digest mismatch) is logged, counted and answered by a build', async () => {
    const store = makeStore();
    const a = await host(store, 'a');
    await a.service.ensureImage(spec.id);
    const tampered = memoryMasterDisk('evil');
    await republish(store, tampered, true);
    const logger = recordingLogger();
    const b = await host(store, 'b', logger);
    await b.service.ensureImage(spec.id);
    expect(b.provider.stats.imports).toBe(0);
    expect(b.provider.stats.builds).toBe(1);
    expect(logger.warnings.filter((w) => /unusable/.test(w) && /sha256/.test(w))).toHaveLength(1);
    await a.service.close();
    await b.service.close();
  });

  it('an unsafe disk (its header is not the claimed format) is refused by the provider and built instead', async () => {
    const store = makeStore();
    const a = await host(store, 'a');
    await a.service.ensureImage(spec.id);
    const qcow = new Uint8Array(1024 * 1024);
    qcow.set([0x51, 0x46, 0x49, 0xfb]);
    await republish(store, qcow);
    const logger = recordingLogger();
    const b = await host(store, 'b', logger);
    await b.service.ensureImage(spec.id);
    expect(b.provider.stats.builds).toBe(1);
    expect(b.provider.masterNames()).toHaveLength(1);
    expect(logger.warnings.some((w) => /claims format raw but its header is qcow2/.test(w))).toBe(true);
    await a.service.close();
    await b.service.close();
  });
});

describe('SharedMasters', () => {
  const hash = 'a'.repeat(64);
  const work = () => ({ signal: new AbortController().signal, onProgress: () => {} });

  it('refuses hostile records (a blob name outside its key, a huge size) before reading any disk', async () => {
    const store = memoryBlobStore();
    const logger = recordingLogger();
    const shared = new SharedMasters(memoryProvider(), store, { container: SHARED, logger, tmpDir: dir });
    await store.createContainer(SHARED);
    const good = {
      schemaVersion: 1,
      specHash: hash,
      imageId: 'x',
      format: 'raw',
      compression: 'none',
      sha256: 'b'.repeat(64),
      size: 10,
      publishedBy: 'p',
      publishedAt: new Date().toISOString(),
      blob: sharedDiskName(hash, 'b'.repeat(64), 'raw'),
    };
    for (const bad of [
      { blob: '../../etc/passwd' },
      { size: 2 ** 50 },
      { format: 'vmdk' },
      { specHash: 'c'.repeat(64) },
    ]) {
      await store.putBlob(SHARED, sharedRecordName(hash), JSON.stringify({ ...good, ...bad }));
      expect(await shared.adopt(spec, hash, 'm1', work())).toBeUndefined();
    }
    expect(shared.stats.fallbacks).toBe(4);
    expect(logger.warnings.map((w) => /record: (\w+)/.exec(w)?.[1])).toEqual([
      'blob',
      'size',
      'format',
      'specHash',
    ]);
    expect((await readdir(dir)).filter((n) => n.startsWith('vmkit-shared-'))).toEqual([]);
  });

  it('adopts from the record that noticing the publication read: one call on the record, not two', async () => {
    const store = memoryBlobStore();
    const a = await host(store, 'a');
    await a.service.ensureImage(spec.id);
    const { specHash: hash } = await sharedRecord(store);
    const recordName = sharedRecordName(hash);
    let recordCalls = 0;
    const counted = observedStore(store, (_method, args) => {
      if (args[1] === recordName) recordCalls++;
    });
    const b = memoryProvider();
    const reader = new SharedMasters(b, counted, {
      container: SHARED,
      logger: recordingLogger(),
      tmpDir: dir,
    });
    const work = { signal: new AbortController().signal, onProgress: () => {} };
    expect(await reader.published(hash)).toBe(true);
    expect(await reader.adopt(spec, hash, 'm1', work)).toMatchObject({ id: 'm1' });
    expect(recordCalls).toBe(1);
    // Kept for one adoption only: the next reads the record again.
    expect(await reader.adopt(spec, hash, 'm2', work)).toMatchObject({ id: 'm2' });
    expect(recordCalls).toBe(2);
    await a.service.close();
  });

  it('an abort during the download rejects ABORTED, registers nothing and leaves no staging file', async () => {
    const store = memoryBlobStore();
    const a = await host(store, 'a');
    await a.service.ensureImage(spec.id);
    const { specHash: published } = await sharedRecord(store);
    const b = memoryProvider();
    const reader = new SharedMasters(b, store, { container: SHARED, logger: recordingLogger(), tmpDir: dir });
    const abort = new AbortController();
    const error = await reader
      .adopt(spec, published, 'm1', {
        signal: abort.signal,
        onProgress: (e) => {
          if (e.step === 'download' && (e.fraction ?? 0) > 0) abort.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(abort.signal.aborted).toBe(true);
    expect((error as Error).name === 'AbortError' || VmkitError.is(error, 'ABORTED')).toBe(true);
    expect(b.masterNames()).toEqual([]);
    expect(reader.stats).toMatchObject({ adopted: 0, fallbacks: 0 });
    expect((await readdir(dir)).filter((n) => n.startsWith('vmkit-shared-'))).toEqual([]);
    await a.service.close();
  });

  it('an abort while publishing stops it: counted, nothing left in the store or the staging directory', async () => {
    const store = memoryBlobStore();
    const provider = memoryProvider();
    const service = await createComputeService({ provider, store, images: [spec] });
    await service.ensureImage(spec.id);
    const [masterName] = provider.masterNames();
    const logger = recordingLogger();
    const shared = new SharedMasters(provider, store, { container: SHARED, logger, tmpDir: dir });
    const abort = new AbortController();
    await shared.publish(
      spec,
      'd'.repeat(64),
      { id: masterName as string },
      {
        signal: abort.signal,
        onProgress: (e) => {
          if (e.step === 'publish' && (e.fraction ?? 0) > 0.5) abort.abort();
        },
      },
    );
    expect(abort.signal.aborted).toBe(true);
    expect(shared.stats).toMatchObject({ published: 0, publishFailures: 1 });
    expect(logger.warnings.some((w) => /could not publish/.test(w))).toBe(true);
    expect((await store.list(SHARED)).items).toEqual([]);
    expect((await readdir(dir)).filter((n) => n.startsWith('vmkit-shared-'))).toEqual([]);
    await service.close();
  });

  it('a failed publication is a warning, removes its disk blob and never fails the build', async () => {
    const inner = memoryBlobStore();
    const store: BlobStore = Object.create(inner, {
      putBlob: {
        value: async (c: string, n: string, body: unknown, o: unknown) => {
          if (n.endsWith('.json') && c === SHARED) throw new VmkitError('STORE', 'disk full');
          return inner.putBlob(c, n, body as string, o as undefined);
        },
      },
    });
    const logger = recordingLogger();
    const a = await host(store, 'a', logger);
    const image = await a.service.ensureImage(spec.id);
    expect(image.status).toBe('available');
    expect(logger.warnings.some((w) => /could not publish/.test(w) && /disk full/.test(w))).toBe(true);
    expect((await inner.list(SHARED)).items).toEqual([]);
    await a.service.close();
  });

  it('shareMasters must be a boolean', async () => {
    const error = await createComputeService({
      provider: memoryProvider(),
      store: memoryBlobStore(),
      shareMasters: 'yes' as unknown as boolean,
    }).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/shareMasters/);
  });
});
