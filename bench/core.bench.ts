// Core figures: start-up with 10,000 persisted masters, cache-hit latency, and the SDK's own
// overhead in createNodesInGroup over raw provider calls (in-memory provider, so only SDK work counts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService, type MasterSpec, silentLogger } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { MasterRepository, specHash } from '@vmkit/core/internal';
import { runMasterBuild } from '@vmkit/core/spi';
import { memoryProvider } from '@vmkit/core/testing';
import type { BenchReport } from './lib/report.js';
import { medianMs, timeMs } from './lib/report.js';
import { benchStartupPaths } from './lib/startup-paths.js';

const spec = (id: string): MasterSpec => ({
  id,
  os: { family: 'debian', version: '12', arch: 'x86_64' },
  source: { type: 'kernel', kernel: '/k', initrd: '/i' },
});

export default async function coreBench(report: BenchReport): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-core-'));
  try {
    report.section('core: start-up with 10,000 masters in the filesystem store');
    const provider = memoryProvider();
    const store = fileSystemBlobStore({ root: join(dir, 'store'), durable: false });
    const repository = new MasterRepository(store, {
      container: 'vmkit-images',
      providerId: provider.id,
      logger: silentLogger,
    });
    await repository.init();
    const count = 10_000;
    for (let i = 0; i < count; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, count - i) }, async (_, j) => {
          const s = spec(`img-${String(i + j).padStart(5, '0')}`);
          const master = await runMasterBuild(provider, s, `m-${s.id}`);
          await repository.save({
            schemaVersion: 1,
            imageId: s.id,
            specHash: specHash(s),
            spec: s,
            master,
            providerId: provider.id,
            builtAt: new Date().toISOString(),
            buildMs: 1,
          });
        }),
      );
    }
    const leaseDir = join(dir, 'leases');
    await benchStartupPaths(report, {
      label: 'filesystem',
      store,
      provider,
      leaseDir,
      goalMs: 1000,
      untagged: true,
    });

    report.section('core: cache hit');
    const service = await createComputeService({ provider, store, ports: { leaseDir } });
    await service.ensureImage('img-00042');
    const hits = 20_000;
    const hitMs = await timeMs(async () => {
      for (let i = 0; i < hits; i++) await service.ensureImage('img-00042');
    });
    report.figure({
      name: 'ensureImage on a built master (loading-cache hit)',
      value: (hitMs * 1000) / hits,
      unit: 'µs',
    });
    await service.close();

    report.section('core: createNodesInGroup overhead over raw provider calls (in-memory provider)');
    const nodes = 200;
    const p2 = memoryProvider();
    const s2 = await createComputeService({
      provider: p2,
      store: fileSystemBlobStore({ root: join(dir, 'store2'), durable: false }),
      images: [spec('web')],
      ports: { leaseDir: join(dir, 'leases2') },
    });
    await s2.ensureImage('web');
    const master = await runMasterBuild(p2, spec('raw'), 'raw-master');
    let round = 0;
    const sdk = await medianMs(5, async () => {
      const made = await s2.createNodesInGroup(`sdk${round++}`, nodes);
      await s2.destroyNodesMatching((n) => made.some((m) => m.id === n.id));
    });
    const raw = await medianMs(5, async () => {
      const ids: string[] = [];
      for (let i = 0; i < nodes; i++) {
        const node = await p2.cloneNode({
          name: `raw-${round}-${i}`,
          group: 'raw',
          imageId: 'raw',
          master,
          hardware: { id: 'x', cores: 1, ramMiB: 512, diskGiB: 10 },
          network: { nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:00:01', portForwards: [] }] },
          linked: true,
          tags: [],
          userMetadata: {},
        });
        await p2.startNode(node.id);
        ids.push(node.id);
      }
      round++;
      for (const id of ids) await p2.destroyNode(id);
    });
    report.compare(
      `${nodes} nodes created and destroyed`,
      { name: 'raw provider', ms: raw },
      { name: 'createNodesInGroup', ms: sdk },
    );
    report.figure({
      name: 'SDK overhead per node (create + destroy)',
      value: (sdk - raw) / nodes,
      unit: 'ms',
      goal: { op: '<', value: 1 },
    });
    await s2.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
