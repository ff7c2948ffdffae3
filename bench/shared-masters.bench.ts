// Masters built once per fleet: host A builds the test guest's master and publishes it
// (shareMasters), host B (its own pool and provider id on the same daemon) is ready from the store.
// Side by side: B ready from the store vs A building it (goal: B <= 0.5x the build).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createComputeService, type ProgressEvent } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { LibvirtClient, libvirtProvider } from '@vmkit/provider-libvirt';
import { asHost } from '../packages/provider-libvirt/test-support/as-host.js';
import { sweep } from '../packages/provider-libvirt/test-support/libvirt-sweep.js';
import { testGuestMasterSpec } from '../packages/provider-libvirt/test-support/test-guest.js';
import type { BenchReport } from './lib/report.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';

export default async function sharedMastersBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
  const tag = `vbs${Date.now().toString(36).slice(-5)}`;
  const poolB = `${tag}-pool`;
  const poolBPath = `/var/lib/libvirt/${poolB}`;
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-shared-'));
  const store = fileSystemBlobStore({ root: join(dir, 'store') });
  const spec = testGuestMasterSpec('bench-shared');
  const a = asHost(libvirtProvider({ uri: URI, namePrefix: `${tag}a-` }), 'bench-host-a');
  const b = asHost(
    libvirtProvider({ uri: URI, pool: poolB, poolPath: poolBPath, namePrefix: `${tag}b-` }),
    'bench-host-b',
  );
  const options = (name: string) => ({
    store,
    images: [spec],
    shareMasters: true,
    ports: { leaseDir: join(dir, `leases-${name}`) },
  });
  try {
    await using hostA = await createComputeService({ provider: a.provider, ...options('a') });
    await using hostB = await createComputeService({ provider: b.provider, ...options('b') });
    const start = performance.now();
    let publishStart = 0;
    const onProgress = (e: ProgressEvent) => {
      if (e.step === 'publish' && publishStart === 0) publishStart = performance.now();
    };
    await hostA.ensureImage(spec.id, { onProgress });
    const end = performance.now();
    const buildMs = publishStart - start;
    const publishMs = end - publishStart;
    const adoptMs = await (async () => {
      const t = performance.now();
      await hostB.ensureImage(spec.id);
      return performance.now() - t;
    })();
    if (a.plannedBuilds() !== 1 || b.plannedBuilds() !== 0)
      throw new Error(
        `expected one build on A and none on B, got ${a.plannedBuilds()} and ${b.plannedBuilds()}`,
      );
    const shared = (await store.list('vmkit-images-shared')).items;
    const disk = shared.find((i) => !i.name.endsWith('.json'));
    report.section('shareMasters: second host ready from the store vs building the master (test guest, TCG)');
    report.figure({ name: 'host A: build', value: buildMs, unit: 'ms' });
    report.figure({
      name: 'host A: publish (export, qemu-img -c, sha256, upload)',
      value: publishMs,
      unit: 'ms',
    });
    report.figure({
      name: 'host B: ready from the store (download, verify, inspect, upload to pool)',
      value: adoptMs,
      unit: 'ms',
    });
    report.figure({ name: 'shared disk blob (compressed qcow2)', value: disk?.size ?? 0, unit: 'bytes' });
    report.figure({
      name: 'ready from store / build',
      value: adoptMs / buildMs,
      unit: 'x',
      goal: { op: '<=', value: 0.5 },
    });
    report.compare('second host', { name: 'from the store', ms: adoptMs }, { name: 'build', ms: buildMs }, 2);
  } finally {
    await sweep(URI, `${tag}a-`, 'vmkit');
    await sweep(URI, `${tag}b-`, poolB);
    const client = await LibvirtClient.connect(URI);
    try {
      const pool = await client.storage.poolLookupByName(poolB).catch(() => undefined);
      if (pool) {
        await client.storage.poolDestroy(pool).catch(() => {});
        await client.storage.poolUndefine(pool).catch(() => {});
      }
    } finally {
      await client.close();
    }
    await rm(poolBPath, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  }
}
