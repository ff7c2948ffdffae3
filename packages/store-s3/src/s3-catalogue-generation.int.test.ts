import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@vmkit/core';
import { type BlobStore, fileSystemBlobStore } from '@vmkit/core/blobstore';
import { type MasterRecord, MasterRepository } from '@vmkit/core/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record as fixtureRecord } from '../../core/src/masters/catalogue.fixture.js';
import { startTestS3Server, type TestS3Server } from './testing/s3-test-server.js';
import { createTestBucket, openTestStore } from './testing/test-store.js';

// Start-up trusts the master snapshot while the catalogue generation is unchanged and no change
// marker is left. Another process changes a record between the snapshot and the next start-up,
// finishing or killed (SIGKILL) at each step of the change: the start-up must see the change
// whenever the record was written, over the filesystem store and over the S3 test server.

const PROVIDER = 'libvirt:generation-test';

const record = (id: string, cores: number): MasterRecord => ({
  ...fixtureRecord(id, cores),
  providerId: PROVIDER,
});

/** Counts listings of the records container. */
function counting(store: BlobStore): BlobStore & { lists: number } {
  const counted = Object.assign(Object.create(null), {
    lists: 0,
    createContainer: (c: string) => store.createContainer(c),
    containerExists: (c: string) => store.containerExists(c),
    deleteContainer: (c: string) => store.deleteContainer(c),
    putBlob: store.putBlob.bind(store),
    getBlob: store.getBlob.bind(store),
    blobExists: store.blobExists.bind(store),
    removeBlob: store.removeBlob.bind(store),
    list: (c: string, o?: Parameters<BlobStore['list']>[1]) => {
      if (c === 'vmkit-images') counted.lists++;
      return store.list(c, o);
    },
  });
  return counted;
}

interface Target {
  readonly store: BlobStore;
  readonly env: Record<string, string>;
}

let server: TestS3Server;
let dir: string;
beforeAll(async () => {
  server = await startTestS3Server();
  dir = await mkdtemp(join(tmpdir(), 'vmkit-generation-'));
});
afterAll(async () => {
  await server?.dispose();
  await rm(dir, { recursive: true, force: true });
});

let runs = 0;
const targets: Record<string, () => Promise<Target>> = {
  'filesystem store': async () => {
    const root = join(dir, `fs-${runs++}`);
    return { store: fileSystemBlobStore({ root }), env: { VMKIT_STORE: 'fs', VMKIT_ROOT: root } };
  },
  'S3 test server': async () => {
    const bucket = await createTestBucket(server);
    const env = {
      VMKIT_STORE: 's3',
      VMKIT_BUCKET: bucket,
      VMKIT_PREFIX: 'gen/',
      VMKIT_ENDPOINT: server.endpoint,
    };
    return { store: await openTestStore(server, { bucket, prefix: 'gen/' }), env };
  },
};

/** Runs the other process; resolves with how it ended. */
async function otherProcess(target: Target, crash: string, saved: MasterRecord) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./testing/crashing-writer-main.mjs', import.meta.url))],
    {
      env: {
        ...process.env,
        ...target.env,
        VMKIT_CRASH: crash,
        VMKIT_PROVIDER_ID: PROVIDER,
        VMKIT_RECORD: JSON.stringify(saved),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  return { code, signal, err };
}

for (const [label, open] of Object.entries(targets)) {
  describe(`catalogue generation over the ${label}: another process changes a record`, () => {
    const cases = [
      { crash: 'none', seen: true, lists: [1, 0] },
      { crash: 'after-bump', seen: true, lists: [1, 1] },
      { crash: 'after-record', seen: true, lists: [1, 1] },
      { crash: 'after-marker', seen: false, lists: [1, 1] },
    ] as const;
    for (const { crash, seen, lists } of cases) {
      const ending = crash === 'none' ? 'finishing' : `killed ${crash.replace('-', ' ')}`;
      it(`${ending}: the next start-up ${seen ? 'sees the change' : 'keeps the old record'}`, async () => {
        const target = await open();
        const store = counting(target.store);
        const repo = () =>
          new MasterRepository(store, {
            container: 'vmkit-images',
            providerId: PROVIDER,
            logger: silentLogger,
          });
        await repo().init();
        for (const id of ['a', 'b', 'c']) await repo().save(record(id, 1));
        await repo().loadAll(); // the snapshot, at the current generation
        store.lists = 0;
        expect((await repo().loadAll()).records).toHaveLength(3);
        expect(store.lists).toBe(0); // trusted: nothing listed

        const ended = await otherProcess(target, crash, record('b', 6));
        if (crash === 'none') expect(ended.code, ended.err).toBe(0);
        else expect(ended.signal, ended.err).toBe('SIGKILL');

        const cores = async () =>
          (await repo().loadAll()).records.find((r) => r.imageId === 'b')?.spec.hardware?.cores;
        expect(await cores()).toBe(seen ? 6 : 1);
        expect(await cores()).toBe(seen ? 6 : 1);
        // Listed at the first start-up after the change, and again while a dead writer's marker stays.
        expect(store.lists).toBe(lists[0] + lists[1]);
        await (target.store as { close?: () => Promise<void> }).close?.();
      });
    }
  });
}
