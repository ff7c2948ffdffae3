import { join } from 'node:path';
import type { ComputeService, MasterSpec, NodeMetadata } from '@vmkit/core';
import { createComputeService } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { memoryProvider } from '@vmkit/core/testing';
import { HostGuestAgent } from '../../core/src/guest/host-guest-agent.fixture.js';

/** The image the memory nodes are cloned from (the memory provider builds nothing real). */
const SPEC: MasterSpec = {
  id: 'tiny',
  os: { family: 'linux', version: '1', arch: 'x86_64' },
  source: { type: 'kernel', kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img' },
  hardware: { cores: 1, ramMiB: 256, diskGiB: 1 },
};

let root: string | undefined;

/**
 * Opens a compute service on the memory provider whose nodes' guest agent is this host (core's
 * `HostGuestAgent` fixture: real processes, real files), over state kept in `dir`, so every
 * `vmkit` run opens it again as it would a hypervisor. The first call sets `dir`.
 */
export async function openMemoryGuestService(dir?: string): Promise<ComputeService> {
  root = dir ?? root;
  if (root === undefined) throw new Error('openMemoryGuestService: no directory yet');
  const provider = memoryProvider({
    statePath: join(root, 'provider.json'),
    guestAgent: () => new HostGuestAgent(),
  });
  return createComputeService({
    provider,
    store: fileSystemBlobStore({ root: join(root, 'store'), durable: false }),
    images: [SPEC],
    ports: { leaseDir: join(root, 'leases'), probe: false },
  });
}

/** Makes one running node in `dir` (the store is `dir/store`: pass `--store` it). */
export async function makeMemoryGuestNode(dir: string): Promise<NodeMetadata> {
  const service = await openMemoryGuestService(dir);
  try {
    const [node] = await service.createNodesInGroup('web', 1);
    if (node === undefined) throw new Error('no node made');
    return node;
  } finally {
    await service.close();
  }
}

/** A stand-in for `src/runtime/open-service.js` serving {@link openMemoryGuestService}. */
export function memoryOpenServiceModule() {
  const open = async () => ({ service: await openMemoryGuestService(), provider: {} });
  return {
    openServiceAndProvider: open,
    openService: async () => (await open()).service,
    checkImageSpecs: async () => {},
  };
}
