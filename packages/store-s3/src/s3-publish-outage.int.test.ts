import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type MasterSpec, VmkitError } from '@vmkit/core';
import type { BlobStore } from '@vmkit/core/blobstore';
import { type MemoryProvider, memoryProvider } from '@vmkit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3BlobStore } from './s3-blob-store.js';
import { startTestS3Server, type TestS3Server } from './testing/s3-test-server.js';
import { openTestStore } from './testing/test-store.js';

const spec: MasterSpec = {
  id: 'debian-12-outage',
  os: { family: 'debian', version: '12.5', arch: 'x86_64' },
  source: { type: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img' },
  hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
  login: { user: 'root' },
};
const SHARED = 'vmkit-images-shared';
const LEASES = 'vmkit-images-leases';
const CATALOGUE = 'vmkit-images';

/**
 * `store` with the S3 server killed when the first blob that `when` picks is put, and started
 * again at once (it takes the test server a second or two to listen again), or, with
 * `downUntilFailed`, once that put has failed. `restarted` settles when it listens.
 */
function killedOnFirstPut(
  store: S3BlobStore,
  server: TestS3Server,
  when: (container: string, name: string) => boolean,
  downUntilFailed = false,
) {
  const state: { restarted?: Promise<void> } = {};
  const putBlob: BlobStore['putBlob'] = async (container, name, body, opts) => {
    if (!when(container, name) || state.restarted) return store.putBlob(container, name, body, opts);
    await server.stop('SIGKILL');
    if (!downUntilFailed) {
      state.restarted = server.restart();
      return store.putBlob(container, name, body, opts);
    }
    let restart!: () => void;
    state.restarted = new Promise<void>((resolve) => {
      restart = resolve;
    }).then(() => server.restart());
    try {
      return await store.putBlob(container, name, body, opts);
    } finally {
      restart();
    }
  };
  const watched = new Proxy(store, {
    get(target, key) {
      if (key === 'putBlob') return putBlob;
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { watched, state };
}

/** A compute service on the memory hypervisor and `store`. */
function serviceOptions(provider: MemoryProvider, store: BlobStore) {
  return { provider, store, images: [spec], ports: { probe: false } };
}

/**
 * Builds the image through the outage: what `ensureImage` threw (`undefined` when it resolved),
 * once the server listens again; fails when the outage did not happen during the call.
 */
async function builtThroughOutage(
  compute: ComputeService,
  state: { restarted?: Promise<void> },
): Promise<unknown> {
  let failure: unknown;
  await compute.ensureImage(spec.id).catch((error: unknown) => {
    failure = error;
  });
  expect(state.restarted).toBeDefined();
  await state.restarted;
  return failure;
}

describe('S3 stopped during a master publication (shareMasters) and started again', () => {
  let server: TestS3Server;
  beforeAll(async () => {
    server = await startTestS3Server();
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('the build is truthful: the master is published and readable, or nothing half-made is left; no lease is left; the same service goes on', async () => {
    await using store = await openTestStore(server);
    // The first put of the publication: the master's disk.
    const { watched, state } = killedOnFirstPut(store, server, (container) => container === SHARED);
    const provider = memoryProvider();
    await using compute = await createComputeService({
      ...serviceOptions(provider, watched),
      shareMasters: true,
    });
    const failure = await builtThroughOutage(compute, state);
    if (failure !== undefined) expect(VmkitError.is(failure, 'STORE')).toBe(true);
    else expect((await compute.getImage(spec.id))?.status).toBe('available');

    // What the bucket holds now, read with the store's own client and raw S3 calls.
    const shared = (await store.list(SHARED)).items.map((i) => i.name);
    const records = shared.filter((n) => /^masters\/[0-9a-f]+\.json$/.test(n));
    if (records.length > 0) {
      // Published: the record names a disk that is there, with the size and digest it states.
      expect(records).toHaveLength(1);
      const record = JSON.parse(await (await store.getBlob(SHARED, records[0] ?? ''))!.text()) as {
        blob: string;
        size: number;
        sha256: string;
      };
      const disk = await store.getBlob(SHARED, record.blob);
      expect(disk?.size).toBe(record.size);
      const bytes = Buffer.from(await disk!.bytes());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(record.sha256);
      expect(shared.sort()).toEqual([records[0], record.blob].sort());
    } else expect(shared).toEqual([]);
    await store.settle();
    // s3rver does not implement ListMultipartUploads: its open uploads are folders of the bucket's.
    const bucketDir = join(server.directory, store.options.bucket);
    if ((await readdir(bucketDir)).includes('._S3rver_uploads'))
      expect(await readdir(join(bucketDir, '._S3rver_uploads'))).toEqual([]);
    // No build lease left to block the next build of this image (by this host or another).
    expect((await store.list(LEASES)).items).toEqual([]);
    // Published (the outage was ridden out), not merely built.
    expect(records).toHaveLength(1);

    // The same compute service goes on without being made again.
    const nodes = await compute.createNodesInGroup('after', 1);
    expect(nodes[0]?.status).toBe('running');
    await compute.destroyNodesMatching(() => true);
    expect(await compute.listNodes()).toEqual([]);
  });

  it('stopped at the catalogue write of a build, back once that write failed a first time: the image is available with its record, or the build fails with STORE leaving no master and no lease; the same service goes on', async () => {
    await using store = await openTestStore(server);
    const { watched, state } = killedOnFirstPut(
      store,
      server,
      (container, name) => container === CATALOGUE && name.endsWith(`/${spec.id}.json`),
      true,
    );
    const provider = memoryProvider();
    await using compute = await createComputeService(serviceOptions(provider, watched));
    const failure = await builtThroughOutage(compute, state);
    const records = (await store.list(CATALOGUE)).items.filter((i) => i.name.endsWith(`/${spec.id}.json`));
    if (failure === undefined) {
      // Built and recorded: the record is there and names the master the hypervisor has.
      expect(records).toHaveLength(1);
      expect(provider.masterNames()).toHaveLength(1);
      expect((await compute.getImage(spec.id))?.status).toBe('available');
    } else {
      expect(VmkitError.is(failure, 'STORE'), String(failure)).toBe(true);
      expect(records).toEqual([]);
      expect(provider.masterNames()).toEqual([]);
    }
    // No build lease left to block the next build of this image.
    expect((await store.list(LEASES)).items).toEqual([]);
    // The same service goes on: the image is there (or is built now), and a node runs from it.
    await compute.ensureImage(spec.id);
    expect(provider.masterNames()).toHaveLength(1);
    const nodes = await compute.createNodesInGroup('after', 1);
    expect(nodes[0]?.status).toBe('running');
    await compute.destroyNodesMatching(() => true);
  });
});
