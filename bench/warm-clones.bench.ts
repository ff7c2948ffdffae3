// Warm clones against cold ones, side by side in one run: from createNodesInGroup to the first
// HTTP answer of every node, for 1 and 4 nodes of the busybox test guest, with the state image's
// size and the disk bytes one warm clone writes; the scale run (VMKIT_BENCH_WARM_SCALE busybox
// nodes of 128 MiB in one call, default 8, cold vs warm until all answer, and the SDK's own time
// per node); the Debian guest until SSH answers with the call's key. Each template state is saved
// before the timings (its one-time cost is reported on its own). VMKIT_BENCH_WARM_ONLY=debian runs
// the Debian figures alone, VMKIT_BENCH_WARM_ONLY=scale the scale figures alone,
// VMKIT_BENCH_WARM_ONLY=busybox the busybox 1- and 4-node figures alone; names start with
// VMKIT_BENCH_PREFIX (default `vw`).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ComputeService,
  createComputeService,
  type MasterSpec,
  type NodeMetadata,
  type ProgressEvent,
} from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { LibvirtClient, libvirtProvider } from '@vmkit/provider-libvirt';
import { debianGuest, debianWarmSpec } from '../packages/provider-libvirt/test-support/debian-guest.js';
import { waitForGuestPage } from '../packages/provider-libvirt/test-support/http.js';
import { makeSshKeys, type SshKeys, waitForSsh } from '../packages/provider-libvirt/test-support/ssh.js';
import { testGuestMasterSpec } from '../packages/provider-libvirt/test-support/test-guest.js';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';

/** How long one node of the call took, and how long createNodesInGroup itself took (the SDK's part). */
interface Timing {
  readonly ms: number;
  readonly sdkMs: number;
}

/**
 * createNodesInGroup to every node's first HTTP answer; the nodes are destroyed afterwards.
 * `hardware`: the nodes' (warm: the template's).
 */
async function untilAnswering(
  compute: ComputeService,
  count: number,
  warm: boolean,
  ramMiB?: number,
): Promise<Timing> {
  let nodes: NodeMetadata[] = [];
  let sdkMs = 0;
  const ms = await timeMs(async () => {
    sdkMs = await timeMs(async () => {
      nodes = await compute.createNodesInGroup(
        'bench',
        count,
        { inboundPorts: [80], ...(ramMiB ? { hardware: { ramMiB } } : {}) },
        { warm },
      );
    });
    await Promise.all(
      nodes.map((n) => waitForGuestPage(`http://127.0.0.1:${n.hostPorts['tcp-80']}/`, 300_000)),
    );
  });
  if (warm && nodes.some((n) => n.warm?.resumed !== true)) throw new Error('a warm node booted cold');
  await compute.destroyNodesMatching((n) => n.group === 'bench');
  return { ms, sdkMs };
}

/**
 * createNodesInGroup to the first SSH login with the call's key; the node is destroyed afterwards.
 * `phases`: the node's progress events and the SSH answer, each with its time since the call began,
 * so the report says where a slow figure's time went.
 */
async function untilSsh(
  compute: ComputeService,
  keys: SshKeys,
  warm: boolean,
): Promise<{ ms: number; phases: string[] }> {
  let node: NodeMetadata | undefined;
  const phases: string[] = [];
  const t0 = performance.now();
  const at = (what: string) => phases.push(`${((performance.now() - t0) / 1000).toFixed(2)} s ${what}`);
  const ms = await timeMs(async () => {
    [node] = await compute.createNodesInGroup(
      'bench-deb',
      1,
      { inboundPorts: [22], authorizePublicKey: keys.publicKey },
      {
        warm,
        onProgress: (e: ProgressEvent) => {
          if (e.node && !/^uploaded|boot running/.test(e.message ?? '')) at(e.message ?? e.phase);
        },
      },
    );
    at('createNodesInGroup returned');
    await waitForSsh(keys, node?.hostPorts['tcp-22'] as number, 'debian', 'true', 600_000, 200);
    at('SSH answered');
  });
  if (warm && node?.warm?.resumed !== true) throw new Error('the warm Debian node booted cold');
  await compute.destroyNodesMatching((n) => n.group === 'bench-deb');
  return { ms, phases };
}

/**
 * Refreshes the pool, trying again while libvirt refuses because of another client's job on it
 * (the pool is shared: "pool 'vmkit' has asynchronous jobs running").
 */
async function refreshPool(
  client: LibvirtClient,
  pool: Parameters<LibvirtClient['storage']['poolRefresh']>[0],
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.storage.poolRefresh(pool);
      return;
    } catch (error) {
      if (attempt >= 60 || !/asynchronous jobs running/.test(String(error))) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Scale: `count` busybox nodes of 128 MiB in one call, cold vs warm, and the SDK's time per node. */
async function scaleFigures(report: BenchReport, compute: ComputeService, count: number): Promise<void> {
  report.section(
    `warm clones at scale: ${count} busybox nodes of 128 MiB in one call, until all answer HTTP`,
  );
  await compute.ensureImage('bench-warm-small');
  await untilAnswering(compute, 1, true, 128); // the template, saved once
  const warm1 = await untilAnswering(compute, 1, true, 128);
  const warm8 = count > 8 ? await untilAnswering(compute, 8, true, 128) : undefined;
  const warmN = await untilAnswering(compute, count, true, 128);
  const coldN = await untilAnswering(compute, count, false, 128);
  report.compare(
    `${count} nodes until HTTP`,
    { name: 'warm', ms: warmN.ms },
    { name: 'cold', ms: coldN.ms },
    4,
  );
  report.figure({ name: 'SDK time per warm node, 1 node', value: warm1.sdkMs, unit: 'ms' });
  if (warm8) report.figure({ name: 'SDK time per warm node, 8 nodes', value: warm8.sdkMs / 8, unit: 'ms' });
  report.figure({ name: `SDK time per warm node, ${count} nodes`, value: warmN.sdkMs / count, unit: 'ms' });
  report.figure({ name: `${count} warm nodes, createNodesInGroup alone`, value: warmN.sdkMs, unit: 'ms' });
  report.figure({ name: `SDK time per cold node, ${count} nodes`, value: coldN.sdkMs / count, unit: 'ms' });
}

/** The Debian guest: one node cold vs warm until SSH answers with the call's key. */
async function debianFigures(report: BenchReport, prefix: string, dir: string): Promise<void> {
  report.section("warm clones: Debian guest, createNodesInGroup until SSH answers with the call's key");
  const keys = await makeSshKeys();
  try {
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, namePrefix: `${prefix}d-`, postInstallTimeoutMs: 600_000 }),
      store: fileSystemBlobStore({ root: join(dir, 'store-debian') }),
      images: [debianWarmSpec('bench-warm-debian', debianGuest(), 600_000)],
      ports: { leaseDir: join(dir, 'leases') },
      credentials: { directory: join(dir, 'credentials') },
    });
    await compute.ensureImage('bench-warm-debian');
    const first = await untilSsh(compute, keys, true);
    report.figure({
      name: 'first warm node (template booted and saved, then resumed)',
      value: first.ms,
      unit: 'ms',
    });
    const cold = await untilSsh(compute, keys, false);
    const warm = await untilSsh(compute, keys, true);
    report.compare('1 node until SSH', { name: 'warm', ms: warm.ms }, { name: 'cold', ms: cold.ms }, 10);
    console.log(`  warm node's phases:\n    ${warm.phases.join('\n    ')}`);
    console.log(`  cold node's phases:\n    ${cold.phases.join('\n    ')}`);
    await compute.deleteImage('bench-warm-debian');
  } finally {
    await keys.dispose();
  }
}

export default async function warmClonesBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
  const prefix = `${process.env.VMKIT_BENCH_PREFIX ?? 'vw'}${Date.now().toString(36).slice(-5)}-`;
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-warm-'));
  const spec: MasterSpec = { ...testGuestMasterSpec('bench-warm'), warm: { until: { http: '/' } } };
  const small: MasterSpec = {
    ...testGuestMasterSpec('bench-warm-small'),
    hardware: { cores: 1, ramMiB: 128, diskGiB: 1 },
    warm: { until: { http: '/' } },
  };
  const scale = Number(process.env.VMKIT_BENCH_WARM_SCALE ?? 8);
  if (process.env.VMKIT_BENCH_WARM_ONLY === 'debian') {
    // The Debian figures alone (minutes of boots), e.g. after a change to the identity reset.
    try {
      await debianFigures(report, prefix, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return;
  }
  if (process.env.VMKIT_BENCH_WARM_ONLY === 'scale') {
    // The scale figures alone (VMKIT_BENCH_WARM_SCALE nodes).
    try {
      await using compute = await createComputeService({
        provider: libvirtProvider({ uri: URI, namePrefix: prefix }),
        store: fileSystemBlobStore({ root: join(dir, 'store') }),
        images: [small],
        ports: { leaseDir: join(dir, 'leases') },
      });
      await scaleFigures(report, compute, scale);
      await compute.deleteImage('bench-warm-small');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return;
  }
  const client = await LibvirtClient.connect(URI);
  try {
    await using compute = await createComputeService({
      provider: libvirtProvider({ uri: URI, namePrefix: prefix }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [spec, small],
      ports: { leaseDir: join(dir, 'leases') },
    });
    await compute.ensureImage('bench-warm');
    report.section('warm clones: busybox guest, createNodesInGroup to every node answering HTTP');
    // The first warm call boots the template once and saves it (a one-time cost per master).
    const saveMs = (await untilAnswering(compute, 1, true)).ms;
    report.figure({
      name: 'first warm node (template booted and saved, then resumed)',
      value: saveMs,
      unit: 'ms',
    });
    const pool = await client.storage.poolLookupByName('vmkit');
    await refreshPool(client, pool);
    const vols = (await client.storage.poolListAllVolumes(pool)).filter((v) => v.name.startsWith(prefix));
    const state = vols.find((v) => v.name.endsWith('.state'));
    if (state) {
      const bytes = (await stat(await client.storage.volGetPath(state))).size;
      report.figure({ name: 'state image size', value: bytes / 2 ** 20, unit: 'MiB', note: '256 MiB guest' });
    }
    for (const count of [1, 4]) {
      const cold = (await untilAnswering(compute, count, false)).ms;
      // Warm calls are short, so one sample is mostly the machine's moment: the median of three.
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) samples.push((await untilAnswering(compute, count, true)).ms);
      samples.sort((a, b) => a - b);
      const warm = samples[1] as number;
      report.figure({
        name: `${count} node(s), warm (median of 3)`,
        value: warm,
        unit: 'ms',
        note: `samples ${samples.map((ms) => Math.round(ms)).join(', ')} ms`,
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
    await refreshPool(client, pool);
    const overlay = await client.storage.volLookupByName(pool, `${node?.id}.qcow2`);
    const info = await client.storage.volGetInfo(overlay);
    report.figure({
      name: 'disk bytes of one warm clone (overlay allocation)',
      value: info.allocation / 1024,
      unit: 'KiB',
    });
    await compute.destroyNodesMatching((n) => n.group === 'bench');
    await compute.deleteImage('bench-warm');
    if (process.env.VMKIT_BENCH_WARM_ONLY === 'busybox') return;
    await scaleFigures(report, compute, scale);
    await compute.deleteImage('bench-warm-small');
    await debianFigures(report, prefix, dir);
  } finally {
    await client.close();
    await rm(dir, { recursive: true, force: true });
  }
}
