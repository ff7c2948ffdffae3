// The guest agent against SSH on the Debian test guest (sshd, and qemu-ga from the install-agent
// step), one node, one run: a `true` round trip through runScriptOnNode over each transport (the
// agent as root, SSH as the node's login user: each without a user switch; SSH on its kept
// connection, then on new ones after it idled out), and copying 100 MiB in
// over SSH (copyToNode, transport ssh) against the system `scp` with the node's stored key.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createComputeService, VmkitError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { sshEndpointOf } from '@vmkit/core/spi';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { debianGuest } from '../packages/provider-libvirt/test-support/debian-guest.js';
import { runPrefix } from '../packages/provider-libvirt/test-support/test-guest.js';
import type { BenchReport } from './lib/report.js';
import { timeMs } from './lib/report.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const URI = 'qemu:///system';
const ROUNDS = 10;
/** Calls that each open a new SSH connection (after the kept one idled out). */
const COLD_ROUNDS = 3;
/** How long the compute service keeps an unused SSH connection (sshTransportFactory's default). */
const SSH_IDLE_MS = 5000;
const COPY_BYTES = 100 * 1024 * 1024;
/** Copies of those bytes each way, alternately. */
const COPY_ROUNDS = 2;
/** A Debian boot under TCG: about 70 s idle, minutes on a loaded machine. */
const BOOT_MS = 600_000;

export default async function guestAgentSshBench(report: BenchReport): Promise<void> {
  execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
  const guest = debianGuest();
  const prefix = runPrefix('bssh');
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-ssh-'));
  try {
    await using compute = await createComputeService({
      provider: libvirtProvider({
        uri: URI,
        pool: 'vmkit',
        namePrefix: prefix,
        postInstallTimeoutMs: BOOT_MS,
      }),
      store: fileSystemBlobStore({ root: join(dir, 'store') }),
      images: [
        {
          id: 'bench-debian-agent',
          os: { family: 'debian', version: '12', arch: 'x86_64' },
          source: { type: 'disk', path: guest.disk, format: 'qcow2' },
          hardware: { cores: 1, ramMiB: 1024, diskGiB: 3 },
        },
      ],
      ports: { leaseDir: join(dir, 'leases') },
      credentials: { directory: join(dir, 'credentials') },
    });
    const [node] = await compute.createNodesInGroup('bssh', 1, {
      configDrive: true,
      inboundPorts: [22],
      loginUser: 'debian',
      hardware: { ramMiB: 768, cores: 1 },
    });
    if (!node) throw new VmkitError('PROVIDER', 'no node');
    await compute.waitForNode(node.id, { until: 'agent', timeoutMs: BOOT_MS });
    await compute.waitForNode(node.id, { until: 'ssh', timeoutMs: BOOT_MS });
    // The agent and sshd answer while cloud-init's first boot still runs (debconf, modules): a guest
    // that busy made a bare guest-exec of /bin/true take 110-130 ms instead of about 10. Measure a
    // settled guest.
    await compute.runScriptOnNode(node.id, 'cloud-init status --wait', { timeoutMs: BOOT_MS });

    report.section(`guest agent vs SSH (libvirt, Debian guest): ${ROUNDS} round trips each`);
    let agentMs = 0;
    let sshMs = 0;
    for (let i = 0; i < ROUNDS; i++) {
      agentMs += await timeMs(() => compute.runScriptOnNode(node.id, 'true', { transport: 'agent' }));
      sshMs += await timeMs(() =>
        compute.runScriptOnNode(node.id, 'true', { transport: 'ssh', user: 'debian' }),
      );
    }
    report.figure({
      name: '`true` through runScriptOnNode (agent), per run',
      value: agentMs / ROUNDS,
      unit: 'ms',
    });
    report.figure({
      name: '`true` through runScriptOnNode (ssh), per run',
      value: sshMs / ROUNDS,
      unit: 'ms',
    });
    report.compare('`true` round trip', { name: 'agent', ms: agentMs }, { name: 'ssh', ms: sshMs }, 1);
    // The SSH runs above share one kept connection; a first call (or one after 5 s unused) logs in.
    let coldMs = 0;
    for (let i = 0; i < COLD_ROUNDS; i++) {
      await new Promise((r) => setTimeout(r, SSH_IDLE_MS + 1000));
      coldMs += await timeMs(() =>
        compute.runScriptOnNode(node.id, 'true', { transport: 'ssh', user: 'debian' }),
      );
    }
    report.figure({
      name: '`true` through runScriptOnNode (ssh), new connection, per run',
      value: coldMs / COLD_ROUNDS,
      unit: 'ms',
    });
    report.compare(
      '`true` round trip, SSH connection kept vs new',
      { name: 'kept', ms: sshMs / ROUNDS },
      { name: 'new', ms: coldMs / COLD_ROUNDS },
    );

    const source = join(dir, 'copy.bin');
    await writeFile(source, randomBytes(COPY_BYTES));
    const login = await compute.getNodeCredentials(node.id);
    const key = join(dir, 'node_key');
    await writeFile(key, login?.privateKey ?? '', { mode: 0o600 });
    const { host, port } = sshEndpointOf((await compute.getNode(node.id)) ?? node);
    const copyOurs = () =>
      timeMs(() => compute.copyToNode(node.id, source, '/tmp/vmkit-bench-ours.bin', { transport: 'ssh' }));
    const copyScp = () =>
      timeMs(() =>
        run('scp', [
          '-q',
          '-F',
          'none',
          '-i',
          key,
          '-P',
          String(port),
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          'BatchMode=yes',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
          source,
          `${login?.user ?? 'debian'}@${host}:/tmp/vmkit-bench-scp.bin`,
        ]),
      );
    // Alternately, so load from other work on the machine hits both alike.
    let ours = 0;
    let scp = 0;
    for (let i = 0; i < COPY_ROUNDS; i++) {
      ours += await copyOurs();
      scp += await copyScp();
    }
    ours /= COPY_ROUNDS;
    scp /= COPY_ROUNDS;
    report.figure({ name: 'copy 100 MiB in over SSH (copyToNode), per copy', value: ours, unit: 'ms' });
    report.figure({ name: 'copy 100 MiB in with scp, per copy', value: scp, unit: 'ms' });
    report.compare('copy 100 MiB in', { name: 'copyToNode (ssh)', ms: ours }, { name: 'scp', ms: scp }, 0.8);
    await compute.destroyNode(node.id);
    await compute.deleteImage('bench-debian-agent');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
