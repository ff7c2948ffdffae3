// S3 store figures, side by side with the filesystem store in the same run: start-up with 10,000
// masters (the catalogue load that lists every record against the one that trusts the snapshot on
// its generation, the provider check, a whole start-up), from s3rver on loopback (in its own
// process) and from the filesystem store; plus a 64 MiB streamed round trip.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { createComputeService, type MasterSpec, silentLogger } from '@vmkit/core';
import { type BlobStore, fileSystemBlobStore } from '@vmkit/core/blobstore';
import { type MasterRecord, MasterRepository, specHash } from '@vmkit/core/internal';
import { mapLimit, runMasterBuild } from '@vmkit/core/spi';
import { memoryProvider } from '@vmkit/core/testing';
import { s3BlobStore } from '@vmkit/store-s3';
import { pseudoRandomStream } from '../packages/store-s3/src/testing/pseudo-random-stream.js';
import { startTestS3Server } from '../packages/store-s3/src/testing/s3-test-server.js';
import {
  createTestBucket,
  testClient,
  testStoreOptions,
} from '../packages/store-s3/src/testing/test-store.js';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';
import { benchStartupPaths } from './lib/startup-paths.js';

const COUNT = 10_000;
const spec = (id: string): MasterSpec => ({
  id,
  os: { family: 'debian', version: '12', arch: 'x86_64' },
  source: { type: 'kernel', kernel: '/k', initrd: '/i' },
});

async function startup(provider: ReturnType<typeof memoryProvider>, store: BlobStore, leaseDir: string) {
  let available = 0;
  const ms = await timeMs(async () => {
    // close() of the service closes its provider: this one stays open for the later figures.
    const open = { ...provider, close: async () => {} };
    const service = await createComputeService({ provider: open, store, ports: { leaseDir } });
    available = (await service.listImages()).filter((i) => i.status === 'available').length;
    await service.close();
  });
  return { ms, available };
}

export default async function s3Bench(report: BenchReport): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-s3-'));
  const server = await startTestS3Server({ directory: join(dir, 's3') });
  try {
    report.section(
      `store-s3: start-up with ${COUNT.toLocaleString('en')} masters, S3 on loopback vs filesystem`,
    );
    const provider = memoryProvider();
    const records: MasterRecord[] = await mapLimit(
      Array.from({ length: COUNT }, (_, i) => spec(`img-${String(i).padStart(5, '0')}`)),
      64,
      async (s) => ({
        schemaVersion: 1,
        imageId: s.id,
        specHash: specHash(s),
        spec: s,
        master: await runMasterBuild(provider, s, `m-${s.id}`),
        providerId: provider.id,
        builtAt: new Date().toISOString(),
        buildMs: 1,
      }),
    );
    // The same records in both stores: through the repository for the filesystem, and for S3
    // by plain PUTs of the same JSON (faster to seed than the store's checked puts).
    const fsStore = fileSystemBlobStore({ root: join(dir, 'fs'), durable: false });
    const fsRepo = new MasterRepository(fsStore, {
      container: 'vmkit-images',
      providerId: provider.id,
      logger: silentLogger,
    });
    await fsRepo.init();
    await mapLimit(records, 64, (r) => fsRepo.save(r));

    const bucket = await createTestBucket(server);
    await using s3 = s3BlobStore({ ...testStoreOptions(server, bucket), prefix: 'bench/' });
    const s3Repo = new MasterRepository(s3, {
      container: 'vmkit-images',
      providerId: provider.id,
      logger: silentLogger,
    });
    await s3Repo.init();
    const seed = testClient(server);
    await mapLimit(records, 32, (r) =>
      seed.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `bench/vmkit-images/${s3Repo.prefix}${r.imageId}.json`,
          Body: JSON.stringify(r, null, 2),
          ContentType: 'application/json',
        }),
      ),
    );

    // The S3 records were put behind the repository's back: the first start-up finds no generation,
    // reads every record (one GET per master) and writes the snapshot at a fresh generation.
    const s3Cold = await startup(provider, s3, join(dir, 'leases-s3'));
    report.figure({
      name: `S3 store, first start-up (no snapshot yet: one GET per master), ${s3Cold.available} available`,
      value: s3Cold.ms,
      unit: 'ms',
    });
    const fsMs = await benchStartupPaths(report, {
      label: 'filesystem store',
      store: fsStore,
      provider,
      leaseDir: join(dir, 'leases-fs'),
      goalMs: 1000,
      runs: 3,
      untagged: true,
    });
    const s3Ms = await benchStartupPaths(report, {
      label: 'S3 store (s3rver, loopback)',
      store: s3,
      provider,
      leaseDir: join(dir, 'leases-s3'),
      goalMs: 5000,
      runs: 3,
    });
    report.compare(
      'whole start-up, 10,000 masters',
      { name: 'filesystem', ms: fsMs },
      { name: 'S3', ms: s3Ms },
    );
    const s3Run = { ms: s3Ms };
    // What the server allows: the same listing and reads through the bare SDK, 64 in flight.
    const rawMs = await timeMs(async () => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await seed.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: `bench/vmkit-images/${s3Repo.prefix}`,
            ContinuationToken: token,
          }),
        );
        for (const o of page.Contents ?? []) if (o.Key?.endsWith('.json')) keys.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      await mapLimit(keys, 64, async (Key) => {
        const r = await seed.send(new GetObjectCommand({ Bucket: bucket, Key }));
        JSON.parse((await r.Body?.transformToString()) ?? 'null');
      });
    });
    report.figure({
      name: 'bare SDK on the same server: list + 10,000 GETs + JSON.parse (server floor)',
      value: rawMs,
      unit: 'ms',
    });
    report.compare(
      'S3 store start-up vs bare SDK reads of the same objects',
      { name: 'store start-up', ms: s3Run.ms },
      { name: 'bare SDK', ms: rawMs },
    );
    seed.destroy();

    report.section('store-s3: 64 MiB streamed through the S3 store (multipart up, ranged down, MD5 checked)');
    await s3.createContainer('blobs');
    const size = 64 * 1024 * 1024;
    const source = pseudoRandomStream(size);
    const upMs = await timeMs(() => s3.putBlob('blobs', 'big', source.stream));
    let downSha = '';
    const downMs = await timeMs(async () => {
      const hash = createHash('sha256');
      for await (const chunk of (await s3.getBlob('blobs', 'big'))?.stream() ?? [])
        hash.update(chunk as Buffer);
      downSha = hash.digest('hex');
    });
    const same = downSha === source.sha256();
    report.figure({ name: 'upload', value: size / 1048576 / (upMs / 1000), unit: 'MiB/s' });
    report.figure({
      name: `download with sha256${same ? '' : ' (DIGEST MISMATCH)'}`,
      value: size / 1048576 / (downMs / 1000),
      unit: 'MiB/s',
    });
    if (!same) throw new Error('64 MiB round trip changed the bytes');
  } finally {
    await server.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
