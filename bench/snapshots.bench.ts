// Node snapshots on libvirt (busybox test guest, qemu:///system): the time of a disk snapshot of a
// stopped node, a memory snapshot of a running one, and the reverts to each, after the guest wrote
// VMKIT_BENCH_SNAPSHOT_MIB (default 256) MiB to its disk. The snapshots are internal to the node's
// qcow2 overlay: taking one copies the overlay's L1 table and raises refcounts of its own
// clusters, so the figures follow what the node wrote (and its memory), not the master's size;
// the overlay's and the master's sizes are printed beside them.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createComputeService, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { testGuestMasterSpec } from '../packages/provider-libvirt/test-support/test-guest.js';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';
const MiB = 1024 * 1024;

export default async function snapshotsBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
  const written = Number(process.env.VMKIT_BENCH_SNAPSHOT_MIB ?? 256);
  const prefix = `vbsn${Date.now().toString(36).slice(-5)}-`;
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-snap-'));
  const provider = libvirtProvider({ uri: URI, namePrefix: prefix, stopGraceMs: 20_000 });
  try {
    await using compute = await createComputeService({
      provider,
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [testGuestMasterSpec('bench-snapshot-guest')],
      ports: { leaseDir: join(dir, 'leases') },
    });
    const [node] = await compute.createNodesInGroup('snap', 1);
    if (!node) throw new VmkitError('PROVIDER', 'no node');
    const id = node.id;
    await compute.waitForNode(id, { until: 'agent', timeoutMs: 180_000 });
    const fill = await compute.runScriptOnNode(
      id,
      `dd if=/dev/zero of=/root/fill bs=1M count=${written} 2>/dev/null && sync`,
      { timeoutMs: 600_000 },
    );
    if (fill.exitCode !== 0) throw new VmkitError('PROVIDER', `writing in the guest failed: ${fill.stderr}`);
    const usage = await compute.diskUsage();
    const overlay = usage.nodes.find((n) => n.id === id);
    const master = usage.masters.find((m) => m.imageId === 'bench-snapshot-guest');

    report.section(
      `node snapshots (libvirt, busybox guest, 256 MiB RAM, ${written} MiB written by the guest)`,
    );
    const mib = (b: number | undefined) => `${Math.round((b ?? 0) / MiB)} MiB`;
    const note = `overlay ${mib(overlay?.allocatedBytes)} allocated; master ${mib(master?.allocatedBytes)} allocated, ${mib(master?.virtualBytes)} virtual`;
    const memory = await timeMs(() => compute.snapshotNode(id, 'warm', { memory: true }));
    report.figure({ name: 'memory snapshot of the running node', value: memory, unit: 'ms', note });
    await compute.stopNode(id);
    const disk = await timeMs(() => compute.snapshotNode(id, 'cold'));
    report.figure({ name: 'disk snapshot of the stopped node', value: disk, unit: 'ms' });
    const toWarm = await timeMs(() => compute.revertNode(id, 'warm'));
    report.figure({
      name: 'revert to the memory snapshot (QEMU restarted, running)',
      value: toWarm,
      unit: 'ms',
    });
    const toCold = await timeMs(() => compute.revertNode(id, 'cold'));
    report.figure({
      name: 'revert to the disk snapshot (running node powered off)',
      value: toCold,
      unit: 'ms',
    });
    const after = (await compute.diskUsage()).nodes.find((n) => n.id === id);
    report.figure({
      name: 'overlay allocated with both snapshots',
      value: Math.round((after?.allocatedBytes ?? 0) / MiB),
      unit: 'MiB',
    });
    await compute.destroyNode(id);
    await compute.deleteImage('bench-snapshot-guest');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
