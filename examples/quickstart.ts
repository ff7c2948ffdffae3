// check: run
// The vmkit quick start: build a master lazily, clone three nodes in one call, show their host
// ports, destroy them. Runs against the in-memory provider until the libvirt provider lands.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createComputeService, fileSystemBlobStore } from '@vmkit/core';
import { memoryProvider } from '@vmkit/core/testing';

const root = mkdtempSync(join(tmpdir(), 'vmkit-quickstart-'));
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(2)}s`;
try {
  await using service = await createComputeService({
    provider: memoryProvider({ faults: { buildDelayMs: 300 } }),
    store: fileSystemBlobStore({ root }),
    images: [
      {
        id: 'tiny-linux',
        os: { family: 'linux', version: '6.1', arch: 'x86_64' },
        source: { type: 'kernel', kernel: '/srv/vmlinuz', initrd: '/srv/initrd.img' },
        login: { user: 'root' },
      },
    ],
  });
  const nodes = await service.createNodesInGroup(
    'demo',
    3,
    { inboundPorts: [80], userData: 'hello from vmkit' },
    {
      onProgress: (e) => {
        if (e.phase === 'build' && e.fraction === undefined) return;
        if (e.phase === 'build' && !e.message.endsWith('done')) return;
        console.log(`[${elapsed()}] ${e.phase.padEnd(5)} ${e.message}`);
      },
    },
  );
  for (const node of nodes) {
    console.log(
      `[${elapsed()}] ${node.name}: ${node.status}, port 80 -> 127.0.0.1:${node.hostPorts['tcp-80']}`,
    );
  }
  const gone = await service.destroyNodesMatching((n) => n.group === 'demo');
  console.log(`[${elapsed()}] destroyed ${gone.length} nodes`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
