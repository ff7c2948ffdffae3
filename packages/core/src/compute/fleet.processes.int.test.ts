import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'vitest';
import { fileSystemBlobStore } from '../blobstore/file-system-blob-store.js';
import { FLEET_MAIN } from './fleet.fixture.js';
import { type FleetPlace, runFleetRound, runKilledBuildersRound } from './fleet-rounds.fixture.js';

// The fleet (#24): 16 host processes, each with its own in-memory hypervisor and
// `shareMasters: true`, on one filesystem store, asking for the same 5 images at once.
const options = (dir: string) => ({ main: FLEET_MAIN, dir, hosts: 16, images: 5, ttlMs: 6000 });

describe('a fleet of 16 host processes on one filesystem store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-fleet-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const place = (): FleetPlace => {
    const root = join(dir, 'store');
    return {
      storeEnv: { VMKIT_STORE: root },
      store: fileSystemBlobStore({ root, durable: false }),
      strayFiles: async () => readdir(join(root, '.tmp')),
    };
  };

  it('builds each of 5 images once; every other host adopts it; no host fails', async () => {
    await runFleetRound(place(), options(dir));
  });

  it('two builders killed mid-build: each of their leases is taken over once, every survivor ends ready', async () => {
    await runKilledBuildersRound(place(), options(dir));
  });
});
