// check: run
// vmkit on VirtualBox, against the vboxwebsrv simulator (VirtualBox cannot run here; set
// VMKIT_VBOX_URL, VMKIT_VBOX_USER and VMKIT_VBOX_PASSWORD to use a real vboxwebsrv instead).
// Builds a master from an installer ISO lazily, clones two linked clones with SSH forwarded
// from leased host ports and a config drive each, lists them, destroys them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { writeIso9660 } from '@vmkit/imaging';
import { virtualBoxProvider } from '@vmkit/provider-virtualbox';
import { startVboxSimulator } from '@vmkit/provider-virtualbox/testing';

const dir = mkdtempSync(join(tmpdir(), 'vmkit-vbox-example-'));
const sim = process.env.VMKIT_VBOX_URL
  ? undefined
  : await startVboxSimulator({ machineFolder: join(dir, 'vbox') });
const installer = join(dir, 'installer.iso');
writeFileSync(
  installer,
  await writeIso9660([{ path: 'README.TXT', content: 'installer\n' }], { volumeId: 'INSTALLER' }),
);

try {
  await using compute = await createComputeService({
    provider: virtualBoxProvider({
      url: process.env.VMKIT_VBOX_URL ?? sim?.url ?? '',
      username: process.env.VMKIT_VBOX_USER ?? sim?.username,
      password: process.env.VMKIT_VBOX_PASSWORD ?? sim?.password,
      machineFolder: join(dir, 'machines'),
    }),
    store: fileSystemBlobStore({ root: join(dir, 'store') }),
    images: [
      {
        id: 'demo-linux',
        os: { family: 'linux', version: 'demo', arch: 'x86_64' },
        source: { type: 'iso', path: installer },
        hardware: { cores: 1, ramMiB: 512, diskGiB: 4 },
      },
    ],
    ports: { leaseDir: join(dir, 'leases') },
  });
  const nodes = await compute.createNodesInGroup('demo', 2, {
    inboundPorts: [22],
    tags: ['example'],
    userData: '#cloud-config\n',
  });
  for (const node of nodes)
    console.log(
      `${node.name}: ${node.status}, ssh on 127.0.0.1:${node.hostPorts['tcp-22']}, linked clone: ${node.linkedClone}`,
    );
  await compute.destroyNodesMatching((n) => n.group === 'demo');
  console.log(`nodes left: ${(await compute.listNodes()).length}`);
  if (sim) console.log(`SOAP requests: ${sim.requestCount}, rejected: ${sim.rejections.length}`);
  if (sim && sim.rejections.length > 0)
    throw new Error(`the simulator rejected requests: ${JSON.stringify(sim.rejections)}`);
} finally {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
}
