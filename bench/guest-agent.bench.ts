// The QEMU guest agent on libvirt, side by side in one run: a `true` round trip through vmkit
// (runScriptOnNode over LibvirtGuestAgent, the QEMU program of our RPC client) against the same
// through `virsh qemu-agent-command` (guest-exec, then guest-exec-status until it exited, one
// virsh process per command), the bare guest-exec + guest-exec-status of `/bin/true` both ways (the
// floor: what the guest's own process start costs under TCG), and a bare guest-ping both ways.
// Rounds alternate between the two sides, so load from other work on the machine hits both alike.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createComputeService, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { testGuestMasterSpec } from '../packages/provider-libvirt/test-support/test-guest.js';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';
const ROUNDS = 20;

/** Total ms of `rounds` runs of `a` and of `b`, run alternately. */
async function alternately(rounds: number, a: () => Promise<unknown>, b: () => Promise<unknown>) {
  let msA = 0;
  let msB = 0;
  for (let i = 0; i < rounds; i++) {
    msA += await timeMs(a);
    msB += await timeMs(b);
  }
  return [msA, msB] as const;
}

async function virshAgent(domain: string, command: object): Promise<{ return?: Record<string, unknown> }> {
  const { stdout } = await run('virsh', ['-c', URI, 'qemu-agent-command', domain, JSON.stringify(command)]);
  return JSON.parse(stdout) as { return?: Record<string, unknown> };
}

export default async function guestAgentBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
  const spec = testGuestMasterSpec('bench-agent-guest');
  const prefix = `vbga${Date.now().toString(36).slice(-5)}-`;
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-agent-'));
  const provider = libvirtProvider({
    uri: URI,
    namePrefix: prefix,
    nodeCmdline: (c) => c.replace(/\bmode=install\b/, 'mode=run'),
  });
  try {
    await using compute = await createComputeService({
      provider,
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [spec],
      ports: { leaseDir: join(dir, 'leases') },
    });
    const [node] = await compute.createNodesInGroup('agent', 1);
    if (!node) throw new VmkitError('PROVIDER', 'no node');
    await compute.waitForNode(node.id, { until: 'agent', timeoutMs: 180_000 });
    const agent = await provider.guestAgent(node.id, {});

    report.section(`guest agent (libvirt, busybox guest): ${ROUNDS} round trips each`);
    const [ping, virshPing] = await alternately(
      ROUNDS,
      () => agent.ping(),
      () => virshAgent(node.id, { execute: 'guest-ping' }),
    );
    report.compare(
      'guest-ping',
      { name: 'LibvirtGuestAgent', ms: ping },
      { name: 'virsh qemu-agent-command', ms: virshPing },
    );

    const virshTrue = async () => {
      const started = await virshAgent(node.id, { execute: 'guest-exec', arguments: { path: '/bin/true' } });
      const pid = started.return?.pid;
      for (;;) {
        const status = await virshAgent(node.id, { execute: 'guest-exec-status', arguments: { pid } });
        if (status.return?.exited === true) break;
      }
    };
    const [bare, virshBare] = await alternately(
      ROUNDS,
      async () => {
        const pid = await agent.spawn({ path: '/bin/true', args: [] });
        while (!(await agent.processStatus(pid)).exited);
      },
      virshTrue,
    );
    report.compare(
      'bare guest-exec of /bin/true + guest-exec-status',
      { name: 'LibvirtGuestAgent', ms: bare },
      { name: 'virsh', ms: virshBare },
    );

    const [ours, theirs] = await alternately(
      ROUNDS,
      () => compute.runScriptOnNode(node.id, 'true', { transport: 'agent' }),
      virshTrue,
    );
    report.figure({
      name: '`true` through runScriptOnNode (agent), per run',
      value: ours / ROUNDS,
      unit: 'ms',
    });
    report.figure({
      name: '`true` through virsh qemu-agent-command, per run',
      value: theirs / ROUNDS,
      unit: 'ms',
    });
    report.compare(
      '`true` round trip',
      { name: 'runScriptOnNode (agent)', ms: ours },
      { name: 'virsh', ms: theirs },
      10,
    );
    await compute.destroyNode(node.id);
    await compute.deleteImage('bench-agent-guest');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
