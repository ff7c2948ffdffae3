import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService, type ProgressEvent, VmkitError } from '@vmkit/core';
import { type BlobStore, fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3Server, type TestS3Server } from '../../../store-s3/src/testing/s3-test-server.js';
import { createTestBucket, openTestStore } from '../../../store-s3/src/testing/test-store.js';
import { asHost } from '../../test-support/as-host.js';
import { waitForGuestPage } from '../../test-support/http.js';
import { leftovers, poolVolumeNames, sweep } from '../../test-support/libvirt-sweep.js';
import { runPrefix, testGuestMasterSpec } from '../../test-support/test-guest.js';
import { LibvirtClient } from '../client/libvirt-client.js';
import { libvirtProvider } from './libvirt-provider.js';

const URI = 'qemu:///system';
const POOL_A = 'vmkit';
const run = runPrefix('sh');
const POOL_B = `${run}pool`;
const POOL_B_PATH = `/var/lib/libvirt/${POOL_B}`;
const dir = mkdtempSync(join(tmpdir(), 'vmkit-share-int-'));
const spec = testGuestMasterSpec('share-guest');
const prefixes: string[] = [];

/** Two "hosts" on one daemon: each its own pool, name prefix and provider id. */
async function twoHosts(tag: string, storeA: BlobStore, storeB: BlobStore) {
  const prefixA = `${run}${tag}a-`;
  const prefixB = `${run}${tag}b-`;
  prefixes.push(prefixA, prefixB);
  const a = asHost(libvirtProvider({ uri: URI, pool: POOL_A, namePrefix: prefixA }), `test-host-a-${tag}`);
  const b = asHost(
    libvirtProvider({ uri: URI, pool: POOL_B, poolPath: POOL_B_PATH, namePrefix: prefixB }),
    `test-host-b-${tag}`,
  );
  const options = (store: BlobStore, name: string) => ({
    store,
    images: [spec],
    shareMasters: true,
    ports: { leaseDir: join(dir, `leases-${tag}-${name}`) },
  });
  return {
    prefixA,
    prefixB,
    a,
    b,
    serviceA: await createComputeService({ provider: a.provider, ...options(storeA, 'a') }),
    serviceB: await createComputeService({ provider: b.provider, ...options(storeB, 'b') }),
  };
}

describe('masters built once per fleet, on qemu:///system', () => {
  let client: LibvirtClient;
  let server: TestS3Server;
  beforeAll(async () => {
    client = await LibvirtClient.connect(URI);
    server = await startTestS3Server();
  });
  afterAll(async () => {
    for (const prefix of prefixes) {
      await sweep(URI, prefix, POOL_A);
      await sweep(URI, prefix, POOL_B);
    }
    const pool = await client.storage.poolLookupByName(POOL_B).catch(() => undefined);
    if (pool) {
      await client.storage.poolDestroy(pool).catch(() => {});
      await client.storage.poolUndefine(pool).catch(() => {});
    }
    await client.close();
    await server?.dispose();
    rmSync(POOL_B_PATH, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  const stores: Array<[string, () => Promise<[BlobStore, BlobStore]>]> = [
    [
      'the filesystem store',
      async () => {
        const root = join(dir, 'store');
        return [fileSystemBlobStore({ root }), fileSystemBlobStore({ root })];
      },
    ],
    [
      'the S3 test server',
      async () => {
        const bucket = await createTestBucket(server);
        return [await openTestStore(server, { bucket }), await openTestStore(server, { bucket })];
      },
    ],
  ];

  it.each(stores)(
    'over %s: host A builds and publishes a compressed qcow2; host B is ready from the store with zero builds and its node answers',
    async (_name, open) => {
      const [storeA, storeB] = await open();
      const tag = _name.includes('S3') ? 's3' : 'fs';
      const h = await twoHosts(tag, storeA, storeB);
      try {
        const published: ProgressEvent[] = [];
        await h.serviceA.ensureImage(spec.id, { onProgress: (e) => published.push(e) });
        expect(h.a.plannedBuilds()).toBe(1);
        expect(published.some((e) => e.step === 'publish' && e.fraction === 1)).toBe(true);
        const shared = (await storeA.list('vmkit-images-shared')).items.map((i) => i.name);
        expect(shared.filter((n) => n.endsWith('.json'))).toHaveLength(1);
        const record = JSON.parse(
          (await (
            await storeA.getBlob('vmkit-images-shared', shared.find((n) => n.endsWith('.json'))!)
          )?.text()) ?? '{}',
        ) as { format: string; compression: string; blob: string };
        expect(record).toMatchObject({ format: 'qcow2', compression: 'qcow2' });
        expect(shared).toContain(record.blob);

        const events: ProgressEvent[] = [];
        const image = await h.serviceB.ensureImage(spec.id, { onProgress: (e) => events.push(e) });
        expect(image.status).toBe('available');
        // Zero builds on B: no build planned (so no installer domain defined), no build step reported.
        expect(h.b.plannedBuilds()).toBe(0);
        expect(events.filter((e) => e.phase === 'build')).toEqual([]);
        expect(events.some((e) => e.step === 'download' && e.fraction === 1)).toBe(true);
        // B's own master (disk, kernel, initrd) is in B's pool, not A's.
        const own = await poolVolumeNames(client, POOL_B, `${h.prefixB}m-`);
        expect(own.filter((v) => v.endsWith('.qcow2'))).toHaveLength(1);
        expect(own).toHaveLength(3);
        expect(await poolVolumeNames(client, POOL_A, h.prefixB)).toEqual([]);

        const [node] = await h.serviceB.createNodesInGroup('shr', 1, {
          inboundPorts: [80],
          userData: 'from-b',
        });
        const { page } = await waitForGuestPage(`http://127.0.0.1:${node!.hostPorts['tcp-80']}/`);
        expect(page.hostname).toBe(node!.name);
        expect(page.userData).toBe('from-b');
        await h.serviceB.destroyNode(node!.id);
        const left = await leftovers(URI, h.prefixB, POOL_B);
        expect(left.domains).toEqual([]);
        expect(left.volumes.every((v) => v.startsWith(`${h.prefixB}m-`))).toBe(true);
      } finally {
        await h.serviceA.close();
        await h.serviceB.close();
        for (const s of [storeA, storeB]) await (s as Partial<AsyncDisposable>)[Symbol.asyncDispose]?.();
      }
    },
  );

  it('importMasterDisk refuses an unsafe disk (a qcow2 naming a backing file) before libvirt reads it, leaving no volume', async () => {
    const prefix = `${run}bad-`;
    prefixes.push(prefix);
    const provider = libvirtProvider({ uri: URI, pool: POOL_B, poolPath: POOL_B_PATH, namePrefix: prefix });
    const file = join(dir, 'hostile.qcow2');
    execFileSync('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      '-b',
      '/etc/hostname',
      '-F',
      'raw',
      file,
      '64M',
    ]);
    try {
      const error = await provider
        .importMasterDisk('hostile', file, { format: 'qcow2', spec })
        .catch((e: unknown) => e);
      expect(VmkitError.is(error)).toBe(true);
      expect((error as Error).message).toMatch(/backing/);
      expect(await poolVolumeNames(client, POOL_B, prefix)).toEqual([]);
    } finally {
      await provider.close();
    }
  });
});
