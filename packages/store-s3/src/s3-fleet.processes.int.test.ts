import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  type FleetPlace,
  runFleetRound,
  runKilledBuildersRound,
} from '../../core/src/compute/fleet-rounds.fixture.js';
import type { S3BlobStore } from './s3-blob-store.js';
import { startTestS3Server, type TestS3Server } from './testing/s3-test-server.js';
import { createTestBucket, openTestStore } from './testing/test-store.js';

const MAIN = fileURLToPath(new URL('./testing/build-race-main.mjs', import.meta.url));

// The fleet (#24) on S3: 16 host processes, each with its own in-memory hypervisor and
// `shareMasters: true`, on one bucket of the test server (which honours `If-None-Match: *`).
describe('a fleet of 16 host processes on one S3 bucket', () => {
  let server: TestS3Server;
  let dir: string;
  const stores: S3BlobStore[] = [];
  beforeAll(async () => {
    server = await startTestS3Server({ conditionalWrites: true });
    dir = await mkdtemp(join(tmpdir(), 'vmkit-s3-fleet-'));
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await server?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const place = async (): Promise<FleetPlace> => {
    const bucket = await createTestBucket(server);
    const store = await openTestStore(server, { bucket });
    stores.push(store);
    // An S3 write is one request (a lease or record is far below the multipart threshold): a
    // killed writer leaves no partial object to look for.
    return {
      storeEnv: { VMKIT_BUCKET: bucket, VMKIT_ENDPOINT: server.endpoint },
      store,
      strayFiles: async () => [],
    };
  };
  const options = () => ({ main: MAIN, dir, hosts: 16, images: 5, ttlMs: 6000 });

  it('builds each of 5 images once; every other host adopts it; no host fails', async () => {
    await runFleetRound(await place(), options());
  });

  it('two builders killed mid-build: each of their leases is taken over once, every survivor ends ready', async () => {
    await runKilledBuildersRound(await place(), options());
  });
});
