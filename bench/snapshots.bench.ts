// Node snapshots on libvirt (busybox test guest, qemu:///system): the time of a disk snapshot of a
// stopped node, a memory snapshot of a running one, and the reverts to each, after the guest wrote
// VMKIT_BENCH_SNAPSHOT_MIB (default 256) MiB to its disk; once on a node of the small test-guest
// master, once on a node of a big master made from a node that wrote VMKIT_BENCH_SNAPSHOT_MASTER_MIB
// (default 384) MiB more (createImageFromNode, flattened), side by side. The snapshots are internal
// to the node's qcow2 overlay: taking one copies the overlay's L1 table and raises refcounts of its
// own clusters, so the figures should follow what the node wrote (and its memory), not the
// master's size (the goal); the overlay's and the master's sizes are printed beside them.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ComputeService, createComputeService, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { testGuestMasterSpec } from '../packages/provider-libvirt/test-support/test-guest.js';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';
const MiB = 1024 * 1024;

interface SnapshotFigures {
  readonly memory: number;
  readonly disk: number;
  readonly toWarm: number;
  readonly toCold: number;
  readonly note: string;
}

/**
 * Fills a file of `mib` MiB in the node's root file system, from `source` (random bytes for the
 * master: a copy of zeros would come out sparse, and the master small).
 */
async function write(
  compute: ComputeService,
  id: string,
  file: string,
  mib: number,
  source = '/dev/zero',
): Promise<void> {
  const fill = await compute.runScriptOnNode(
    id,
    `dd if=${source} of=${file} bs=1M count=${mib} 2>/dev/null && sync`,
    { timeoutMs: 600_000 },
  );
  if (fill.exitCode !== 0) throw new VmkitError('PROVIDER', `writing in the guest failed: ${fill.stderr}`);
}

/** A node of `imageId` that wrote `written` MiB: its snapshot and revert times. */
async function measure(compute: ComputeService, imageId: string, written: number): Promise<SnapshotFigures> {
  const template = await compute.templateBuilder().imageId(imageId).build();
  const [node] = await compute.createNodesInGroup('snap', 1, template);
  if (!node) throw new VmkitError('PROVIDER', 'no node');
  const id = node.id;
  await compute.waitForNode(id, { until: 'agent', timeoutMs: 180_000 });
  await write(compute, id, '/root/fill', written);
  const usage = await compute.diskUsage();
  const overlay = usage.nodes.find((n) => n.id === id);
  const master = usage.masters.find((m) => m.imageId === imageId);
  const mib = (b: number | undefined) => `${Math.round((b ?? 0) / MiB)} MiB`;
  const note = `overlay ${mib(overlay?.allocatedBytes)} allocated; master ${mib(master?.allocatedBytes)} allocated, ${mib(master?.virtualBytes)} virtual`;
  const memory = await timeMs(() => compute.snapshotNode(id, 'warm', { memory: true }));
  await compute.stopNode(id);
  const disk = await timeMs(() => compute.snapshotNode(id, 'cold'));
  const toWarm = await timeMs(() => compute.revertNode(id, 'warm'));
  const toCold = await timeMs(() => compute.revertNode(id, 'cold'));
  await compute.destroyNode(id);
  return { memory, disk, toWarm, toCold, note };
}

export default async function snapshotsBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
  const written = Number(process.env.VMKIT_BENCH_SNAPSHOT_MIB ?? 256);
  const masterMib = Number(process.env.VMKIT_BENCH_SNAPSHOT_MASTER_MIB ?? 384);
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
    // The big master: a node of the small one writes masterMib MiB, then becomes a master.
    const [seed] = await compute.createNodesInGroup('seed', 1);
    if (!seed) throw new VmkitError('PROVIDER', 'no node');
    await compute.waitForNode(seed.id, { until: 'agent', timeoutMs: 180_000 });
    await write(compute, seed.id, '/root/master-fill', masterMib, '/dev/urandom');
    await compute.stopNode(seed.id);
    await compute.createImageFromNode(seed.id, { imageId: 'bench-snapshot-big', seal: false });
    await compute.destroyNode(seed.id);

    const small = await measure(compute, 'bench-snapshot-guest', written);
    const big = await measure(compute, 'bench-snapshot-big', written);
    report.section(
      `node snapshots (libvirt, busybox guest, 256 MiB RAM, ${written} MiB written by the node): small master vs one with ${masterMib} MiB more`,
    );
    const rows = [
      ['memory snapshot of the running node', 'memory'],
      ['disk snapshot of the stopped node', 'disk'],
      ['revert to the memory snapshot (QEMU restarted, running)', 'toWarm'],
      ['revert to the disk snapshot (running node powered off)', 'toCold'],
    ] as const;
    for (const [name, key] of rows) {
      report.figure({ name: `${name}, small master`, value: small[key], unit: 'ms', note: small.note });
      report.figure({ name: `${name}, big master`, value: big[key], unit: 'ms', note: big.note });
      report.compare(
        `${name}: big master vs small`,
        { name: 'big', ms: big[key] },
        { name: 'small', ms: small[key] },
      );
    }
    await compute.deleteImage('bench-snapshot-big');
    await compute.deleteImage('bench-snapshot-guest');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
