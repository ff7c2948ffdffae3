import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { memoryProvider } from '@vmkit/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../test-support/run-cli.js';

// The command runs against a real compute service over the in-memory provider, whose state
// lives in a file so that each command's own service (opened and closed per run) sees it.
const shared = vi.hoisted(() => ({ dir: '' }));
const SPEC: MasterSpec = {
  id: 'tiny',
  os: { family: 'linux', version: '1', arch: 'x86_64' },
  source: { type: 'disk', path: '/dev/null' },
};

async function open(): Promise<{ service: ComputeService; provider: ReturnType<typeof memoryProvider> }> {
  const provider = memoryProvider({ statePath: join(shared.dir, 'hypervisor.json'), id: 'memory:cli' });
  const service = await createComputeService({
    provider,
    store: fileSystemBlobStore({ root: join(shared.dir, 'store'), durable: false }),
    images: [SPEC],
    ports: { leaseDir: join(shared.dir, 'leases'), probe: false },
    credentials: { directory: join(shared.dir, 'credentials') },
  });
  return { service, provider };
}

vi.mock('../runtime/open-service.js', () => ({
  openServiceAndProvider: open,
  openService: async () => (await open()).service,
  checkImageSpecs: async () => {},
}));

let node: string;
beforeAll(async () => {
  shared.dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-image-'));
  const { service } = await open();
  [node] = (await service.createNodesInGroup('web', 1)).map((n) => n.name) as [string];
  await service.close();
});
afterAll(async () => {
  await rm(shared.dir, { recursive: true, force: true });
});

const vmkit = (args: string[]) => runCli(['--store', join(shared.dir, 'store'), ...args], shared.dir);

describe('vmkit image from', () => {
  it('makes an image from a node by name, which `vmkit images` then lists; --no-seal and --json', async () => {
    const made = await vmkit(['image', 'from', node, 'golden', '--name', 'Golden one']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toBe(`image golden made from ${node} (sealed)\n`);
    expect(made.stderr).toMatch(/100% image golden made from node/);
    const json = await vmkit(['image', 'from', node, 'plain', '--no-seal', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'plain', status: 'available' });
    const images = await vmkit(['images', '--json']);
    expect((JSON.parse(images.stdout) as Array<{ id: string }>).map((i) => i.id).sort()).toEqual([
      'golden',
      'plain',
      'tiny',
    ]);
    const { service, provider } = await open();
    const steps = provider.masterNames().map((m) => [m.split('-')[1], provider.masterSteps(m)?.at(-1)]);
    await service.close();
    expect(steps).toContainEqual(['golden', 'seal']);
    expect(steps).not.toContainEqual(['plain', 'seal']);
  });

  it('refuses a taken image id, a bad one naming the field, and an unknown node', async () => {
    const taken = await vmkit(['image', 'from', node, 'tiny']);
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toMatch(/imageId: an image tiny exists already/);
    const bad = await vmkit(['image', 'from', node, 'Bad_Id']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/imageId: must be 1-63/);
    const unknown = await vmkit(['image', 'from', 'no-such-node', 'x']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no-such-node/);
  });
});
