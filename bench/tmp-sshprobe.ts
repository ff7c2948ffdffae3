import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';
import { debianGuest, debianWarmSpec } from '../packages/provider-libvirt/test-support/debian-guest.js';
import { makeSshKeys, sshRun, waitForSsh } from '../packages/provider-libvirt/test-support/ssh.js';
const dir = join(tmpdir(), 'vmkit-warm-profile');
const keys = await makeSshKeys();
await using compute = await createComputeService({
  provider: libvirtProvider({ uri: 'qemu:///system', namePrefix: 'vwp-', postInstallTimeoutMs: 600_000 }),
  store: fileSystemBlobStore({ root: join(dir, 'store') }),
  images: [debianWarmSpec('profile-warm-debian', debianGuest(), 600_000)],
  ports: { leaseDir: join(dir, 'leases') },
  credentials: { directory: join(dir, 'credentials') },
});
const [node] = await compute.createNodesInGroup('profile', 1, { inboundPorts: [22], authorizePublicKey: keys.publicKey }, { warm: true });
const port = node!.hostPorts['tcp-22'] as number;
await waitForSsh(keys, port, 'debian', 'true', 600_000, 100);
const script = readFileSync(process.argv[2]!).toString('base64');
const r = await sshRun(keys, port, 'debian', `echo ${script} | base64 -d | sudo sh 2>&1`).catch((e) => e);
console.log(r.stdout, r.stderr);
await compute.destroyNodesMatching((n) => n.group === 'profile');
await keys.dispose();
