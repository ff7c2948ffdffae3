// check: run
// The vmkit quick start on libvirt: starts libvirtd if needed, builds the tiny test guest's master
// lazily (only on first demand; later runs reuse it), clones three nodes in one createNodesInGroup
// call with port 80 forwarded, fetches each node's page through its own host port, destroys them.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { libvirtProvider } from '@vmkit/provider-libvirt';

const repo = fileURLToPath(new URL('..', import.meta.url));
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(2)}s`.padStart(7);
const say = (line: string) => console.log(`[${elapsed()}] ${line}`);

// libvirtd (no systemd needed) and the test guest's kernel and initramfs, built from Debian packages.
execFileSync('bash', [join(repo, 'scripts/libvirt/ensure-libvirtd.sh')], { stdio: 'inherit' });
execFileSync('bash', [join(repo, 'test-guest/build.sh')], { stdio: 'inherit' });
const guest = join(repo, '.vmkit', 'test-guest');
say('libvirtd is up, test guest is built');

await using service = await createComputeService({
  provider: libvirtProvider({ uri: 'qemu:///system' }),
  store: fileSystemBlobStore({ root: join(repo, '.vmkit', 'quickstart-store') }),
  images: [
    {
      id: 'tiny-linux',
      os: { family: 'linux', version: 'vmkit-test-guest', arch: 'x86_64' },
      source: {
        type: 'kernel',
        kernel: join(guest, 'vmlinuz'),
        initrd: join(guest, 'initrd.img'),
        cmdline: 'console=ttyS0 panic=-1 vmkit.mode=install root=/dev/vda',
      },
      hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
      login: { user: 'root' },
    },
  ],
});
say(`image tiny-linux is ${(await service.getImage('tiny-linux'))?.status}`);

try {
  // On a partial failure (RunNodesError) the nodes that were made stay: the finally destroys them.
  const nodes = await service.createNodesInGroup(
    'demo',
    3,
    { inboundPorts: [80], userData: 'hello from vmkit' },
    {
      onProgress: (e) => {
        if (e.phase === 'build' && e.fraction !== undefined && !e.message.endsWith('done')) return;
        say(`${e.phase.padEnd(5)} ${e.node ?? e.imageId ?? ''} ${e.message}`);
      },
    },
  );
  say(`created ${nodes.length} nodes`);

  await Promise.all(
    nodes.map(async (node) => {
      const url = `http://127.0.0.1:${node.hostPorts['tcp-80']}/`;
      const t0 = performance.now();
      for (;;) {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
          if (res.ok) {
            const page = (await res.text()).trim();
            say(
              `${node.name} answered on ${url} after ${((performance.now() - t0) / 1000).toFixed(1)}s: ${page}`,
            );
            return;
          }
        } catch {
          // still booting
        }
        if (performance.now() - t0 > 120_000) throw new Error(`${node.name} did not answer on ${url}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }),
  );
} finally {
  const gone = await service.destroyNodesMatching((n) => n.group === 'demo');
  say(`destroyed ${gone.length} nodes`);
  if (process.env.CI) {
    await service.deleteImage('tiny-linux', { force: true });
    say('CI: deleted the master too');
  } else {
    say('the master stays in the libvirt pool "vmkit": the next run skips the build');
  }
}
