// shareMasters with recordSigning: hosts adopt only masters the fleet published.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../blobstore/blob-store.js';
import { memoryBlobStore } from '../blobstore/memory-blob-store.js';
import { createComputeService } from '../compute/create-compute-service.js';
import { debianSpec } from '../compute/service.fixture.js';
import { memoryProvider } from '../testing/memory-provider.js';
import { specHash } from '../util/canonical-json.js';
import { validators } from '../validation/load-validators.js';
import { sharedRecordName } from './shared-master-record.js';

const SHARED = 'vmkit-images-shared';
const spec = debianSpec();
const fleetKey = 'f'.repeat(32);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-shared-signing-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function host(store: BlobStore, name: string, key: string | undefined) {
  const provider = memoryProvider({ id: `memory:${name}` });
  const service = await createComputeService({
    provider,
    store,
    images: [spec],
    shareMasters: true,
    ports: { leaseDir: join(dir, `leases-${name}`), probe: false },
    ...(key ? { recordSigning: { key } } : {}),
  });
  await service.ensureImage(spec.id);
  await service.close();
  return provider.stats;
}

describe('shareMasters with recordSigning', () => {
  it('publishes a signed record that a host with the key adopts and a host with another key does not', async () => {
    const store = memoryBlobStore();
    expect(await host(store, 'a', fleetKey)).toMatchObject({ builds: 1 });
    const hash = specHash(validators().checkMasterSpec(spec, 'spec'));
    const record = JSON.parse(
      (await (await store.getBlob(SHARED, sharedRecordName(hash)))?.text()) as string,
    );
    expect(record.signature).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(await host(store, 'b', fleetKey)).toMatchObject({ builds: 0, imports: 1 });
    expect(await host(store, 'c', 'x'.repeat(32))).toMatchObject({ builds: 1, imports: 0 });
  });

  it('does not adopt a disk published without a signature (by a host outside the fleet)', async () => {
    const store = memoryBlobStore();
    expect(await host(store, 'outsider', undefined)).toMatchObject({ builds: 1 });
    expect(await host(store, 'b', fleetKey)).toMatchObject({ builds: 1, imports: 0 });
  });
});
