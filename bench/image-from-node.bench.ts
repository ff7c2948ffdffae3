// An image made from a libvirt node (busybox test guest, qemu:///system) against `qemu-img
// convert` of the same chain: after the guest wrote VMKIT_BENCH_IMAGE_MIB (default 256; the guest's disk is 1 GiB) MiB, the
// stopped node's overlay (over its master) is flattened into a new qcow2 once by
// `createImageFromNode(id, { seal: false })` (libvirt's STORAGE_VOL_CREATE_XML_FROM, which runs
// qemu-img convert itself, plus the catalogue record) and once by `qemu-img convert -O qcow2` run
// here into the same pool directory, three times each, alternating (medians). Goal: vmkit >= 0.9x the speed of the bare convert. Sealing
// is left out: it is a boot of the copy, not a copy.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createComputeService, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { sweep } from '../packages/provider-libvirt/test-support/libvirt-sweep.js';
import { testGuestMasterSpec } from '../packages/provider-libvirt/test-support/test-guest.js';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';
const MiB = 1024 * 1024;

export default async function imageFromNodeBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
  const written = Number(process.env.VMKIT_BENCH_IMAGE_MIB ?? 256);
  const prefix = `vbif${Date.now().toString(36).slice(-5)}-`;
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-ifn-'));
  const provider = libvirtProvider({ uri: URI, namePrefix: prefix, stopGraceMs: 20_000 });
  let baseline: string | undefined;
  try {
    await using compute = await createComputeService({
      provider,
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [testGuestMasterSpec('bench-ifn-guest')],
      ports: { leaseDir: join(dir, 'leases') },
    });
    const [node] = await compute.createNodesInGroup('ifn', 1);
    if (!node) throw new VmkitError('PROVIDER', 'no node');
    const id = node.id;
    await compute.waitForNode(id, { until: 'agent', timeoutMs: 180_000 });
    // Random bytes: zeros would be skipped by qemu-img as holes, which measures nothing.
    const fill = await compute.runScriptOnNode(
      id,
      `head -c ${written * MiB} /dev/urandom > /root/fill && sync`,
      { timeoutMs: 600_000 },
    );
    if (fill.exitCode !== 0) throw new VmkitError('PROVIDER', `writing in the guest failed: ${fill.stderr}`);
    await compute.stopNode(id);
    const overlay = execFileSync('virsh', ['-c', URI, 'vol-path', `${id}.qcow2`, '--pool', 'vmkit'], {
      encoding: 'utf8',
    }).trim();
    baseline = join(dirname(overlay), `${prefix}baseline.qcow2`);
    // Three rounds, alternating, medians: the page cache and the pool's disk treat both alike.
    const bareRuns: number[] = [];
    const ourRuns: number[] = [];
    for (let round = 0; round < 3; round++) {
      await rm(baseline, { force: true });
      bareRuns.push(
        await timeMs(() => execFileSync('qemu-img', ['convert', '-O', 'qcow2', overlay, baseline as string])),
      );
      const imageId = `bench-ifn-copy-${round}`;
      ourRuns.push(await timeMs(() => compute.createImageFromNode(id, { imageId, seal: false })));
      await compute.deleteImage(imageId);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] as number;
    const [bare, ours] = [median(bareRuns), median(ourRuns)];
    const size = (path: string) =>
      Math.round(
        (JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', path], { encoding: 'utf8' }))[
          'actual-size'
        ] as number) / MiB,
      );
    report.section(`image from a stopped node (libvirt, busybox guest, ${written} MiB written by the guest)`);
    report.compare(
      'flattening the node overlay and its master into a new qcow2',
      { name: 'createImageFromNode (seal: false)', ms: ours },
      { name: 'qemu-img convert -O qcow2', ms: bare },
      0.9,
    );
    report.figure({ name: 'new master allocated (as qemu-img made it)', value: size(baseline), unit: 'MiB' });
    await compute.destroyNode(id);
    await compute.deleteImage('bench-ifn-guest');
  } finally {
    // Whatever a failed run left: every domain and volume of this run's prefix.
    await sweep(URI, prefix, 'vmkit');
    if (baseline) await rm(baseline, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
}
