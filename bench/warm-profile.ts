// Where a warm clone's time goes, phase by phase (not a bench entry: a tool to find what to speed
// up). `npx tsx bench/warm-profile.ts busybox|debian [RUNS=3]`. The master and its warm state are
// kept between runs in VMKIT_PROFILE_DIR (default a folder under the system's temp folder), so only
// the first run builds and saves; names start with VMKIT_PROFILE_PREFIX (default `vwp-`). Prints,
// per warm node, the time from createNodesInGroup to each progress event of the node, to the call's
// return, and to the first answer (HTTP for busybox, SSH with the call's key for Debian).
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createComputeService, type MasterSpec, type ProgressEvent } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { debianGuest, debianWarmSpec } from '../packages/provider-libvirt/test-support/debian-guest.js';
import { waitForGuestPage } from '../packages/provider-libvirt/test-support/http.js';
import { makeSshKeys, waitForSsh } from '../packages/provider-libvirt/test-support/ssh.js';
import { testGuestMasterSpec } from '../packages/provider-libvirt/test-support/test-guest.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const [kind = 'busybox', runsArg = '3'] = process.argv.slice(2);
const dir = process.env.VMKIT_PROFILE_DIR ?? join(tmpdir(), 'vmkit-warm-profile');
const prefix = process.env.VMKIT_PROFILE_PREFIX ?? 'vwp-';
const debian = kind === 'debian';
execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
await mkdir(dir, { recursive: true });
const spec: MasterSpec = debian
  ? debianWarmSpec('profile-warm-debian', debianGuest(), 600_000)
  : { ...testGuestMasterSpec('profile-warm'), warm: { until: { http: '/' } } };
const keys = await makeSshKeys();
await using compute = await createComputeService({
  provider: libvirtProvider({ uri: 'qemu:///system', namePrefix: prefix, postInstallTimeoutMs: 600_000 }),
  store: fileSystemBlobStore({ root: join(dir, 'store') }),
  images: [spec],
  ports: { leaseDir: join(dir, 'leases') },
  credentials: { directory: join(dir, 'credentials') },
});
const port = debian ? 22 : 80;
for (let run = 0; run < Number(runsArg); run++) {
  const t0 = performance.now();
  const at = (): string => `${((performance.now() - t0) / 1000).toFixed(2)} s`;
  const events: string[] = [];
  const [node] = await compute.createNodesInGroup(
    'profile',
    1,
    { inboundPorts: [port], authorizePublicKey: keys.publicKey },
    {
      warm: true,
      onProgress: (e: ProgressEvent) => {
        if ((e.node || e.imageId) && !/^uploaded|boot running/.test(e.message ?? ''))
          events.push(`${at()}  ${e.message ?? e.phase}`);
      },
    },
  );
  events.push(`${at()}  createNodesInGroup returned`);
  const hostPort = node?.hostPorts[`tcp-${port}`] as number;
  if (debian) {
    const answer = await waitForSsh(
      keys,
      hostPort,
      'debian',
      'cat /etc/ssh/ssh_host_ed25519_key.pub',
      600_000,
      100,
    );
    const file = answer.stdout.trim().split(/\s+/).slice(0, 2).join(' ');
    events.push(`        host key presented ${answer.hostKey === file ? 'is' : 'is NOT'} the key file's`);
  } else
    await waitForGuestPage(`http://127.0.0.1:${hostPort}/`, 120_000).catch((e) => {
      console.log(events.join('\n'));
      throw e;
    });
  events.push(`${at()}  ${debian ? 'SSH' : 'HTTP'} answered (${node?.warm?.resumed ? 'warm' : 'cold'})`);
  console.log(`run ${run + 1}:\n  ${events.join('\n  ')}`);
  await compute.destroyNodesMatching((n) => n.group === 'profile');
}
await keys.dispose();
