// Warm clones against cold ones, side by side in one run: from createNodesInGroup to the first
// HTTP answer of every node, for 1 and 4 nodes of the busybox test guest, with the state image's
// size and the disk bytes one warm clone writes. The template state is saved before the timings
// (its one-time cost is reported on its own).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ComputeService, createComputeService, type MasterSpec, type NodeMetadata } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { LibvirtClient, libvirtProvider } from '@vmkit/provider-libvirt';
import { waitForGuestPage } from '../packages/provider-libvirt/test-support/http.js';
import { testGuestMasterSpec } from '../packages/provider-libvirt/test-support/test-guest.js';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';

/** createNodesInGroup to every node's first HTTP answer; the nodes are destroyed afterwards. */
async function untilAnswering(compute: ComputeService, count: number, warm: boolean): Promise<number> {
  let nodes: NodeMetadata[] = [];
  const ms = await timeMs(async () => {
    nodes = await compute.createNodesInGroup('bench', count, { inboundPorts: [80] }, { warm });
    await Promise.all(
      nodes.map((n) => waitForGuestPage(`http://127.0.0.1:${n.hostPorts['tcp-80']}/`, 120_000)),
    );
  });
  if (warm && nodes.some((n) => n.warm?.resumed !== true)) throw new Error('a warm node booted cold');
  await compute.destroyNodesMatching((n) => n.group === 'bench');
  return ms;
}

export default async function warmClonesBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
  const prefix = `vw${Date.now().toString(36).slice(-5)}-`;
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-warm-'));
  const spec: MasterSpec = { ...testGuestMasterSpec('bench-warm'), warm: { until: { http: '/' } } };
  const client = await LibvirtClient.connect(URI);
  try {
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, namePrefix: prefix }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [spec],
      ports: { leaseDir: join(dir, 'leases') },
    });
    await compute.ensureImage('bench-warm');
    report.section('warm clones: busybox guest, createNodesInGroup to every node answering HTTP');
    // The first warm call boots the template once and saves it (a one-time cost per master).
    const saveMs = await untilAnswering(compute, 1, true);
    report.figure({
      name: 'first warm node (template booted and saved, then resumed)',
      value: saveMs,
      unit: 'ms',
    });
    const pool = await client.storage.poolLookupByName('vmkit');
    await client.storage.poolRefresh(pool);
    const vols = (await client.storage.poolListAllVolumes(pool)).filter((v) => v.name.startsWith(prefix));
    const state = vols.find((v) => v.name.endsWith('.state'));
    if (state) {
      const bytes = (await stat(await client.storage.volGetPath(state))).size;
      report.figure({ name: 'state image size', value: bytes / 2 ** 20, unit: 'MiB', note: '256 MiB guest' });
    }
    for (const count of [1, 4]) {
      const cold = await untilAnswering(compute, count, false);
      const warm = await untilAnswering(compute, count, true);
      report.figure({
        name: `${count} node(s), warm`,
        value: warm,
        unit: 'ms',
        ...(count === 1 ? { goal: { op: '<=' as const, value: 1500 } } : {}),
      });
      report.compare(
        `${count} node(s) until HTTP`,
        { name: 'warm', ms: warm },
        { name: 'cold', ms: cold },
        4,
      );
    }
    // Disk bytes one warm clone writes: its overlay's allocation once it answered.
    const [node] = await compute.createNodesInGroup('bench', 1, { inboundPorts: [80] }, { warm: true });
    await waitForGuestPage(`http://127.0.0.1:${node?.hostPorts['tcp-80']}/`, 120_000);
    await client.storage.poolRefresh(pool);
    const overlay = await client.storage.volLookupByName(pool, `${node?.id}.qcow2`);
    const info = await client.storage.volGetInfo(overlay);
    report.figure({
      name: 'disk bytes of one warm clone (overlay allocation)',
      value: info.allocation / 1024,
      unit: 'KiB',
    });
    await compute.destroyNodesMatching((n) => n.group === 'bench');
    await compute.deleteImage('bench-warm');
  } finally {
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
}
