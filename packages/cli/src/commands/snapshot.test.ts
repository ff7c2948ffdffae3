import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComputeService, createComputeService, type MasterSpec } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { memoryProvider } from '@vmkit/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../test-support/run-cli.js';

// The commands run against a real compute service over the in-memory provider, whose state
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
  shared.dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-snap-'));
  const { service } = await open();
  [node] = (await service.createNodesInGroup('web', 1)).map((n) => n.name) as [string];
  await service.close();
});
afterAll(async () => {
  await rm(shared.dir, { recursive: true, force: true });
});

const vmkit = (args: string[]) => runCli(['--store', join(shared.dir, 'store'), ...args], shared.dir);

describe('vmkit snapshot', () => {
  it('takes (the default subcommand), lists, reverts and removes snapshots by node name', async () => {
    const take = await vmkit(['snapshot', node, 'before', '--memory', '--description', 'first one']);
    expect(take.code, take.stderr).toBe(0);
    // Progress goes to stderr, as for every long command.
    expect(take.stderr).toMatch(new RegExp(`snapshot ${node}: 100% snapshot before of ${node} taken`));
    expect(take.stdout).toBe(`snapshot before of ${node} taken with its memory\n`);
    const json = await vmkit(['snapshot', 'take', node, 'after', '--memory', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: 'after',
      memory: true,
      current: true,
      parent: 'before',
    });

    const ls = await vmkit(['snapshot', 'ls', node]);
    expect(ls.stdout).toMatch(/^SNAPSHOT\s+CREATED\s+MEMORY\s+CURRENT\s+DESCRIPTION\n/);
    expect(ls.stdout).toMatch(/\nbefore\s+\S+\s+yes\s+first one\n/);
    expect(ls.stdout).toMatch(/\nafter\s+\S+\s+yes\s+\*/);
    const lsJson = JSON.parse((await vmkit(['snapshot', 'ls', node, '--json'])).stdout) as Array<{
      name: string;
    }>;
    expect(lsJson.map((s) => s.name)).toEqual(['before', 'after']);

    const revert = await vmkit(['snapshot', 'revert', node, 'before']);
    expect(revert).toMatchObject({ code: 0, stdout: `${node} reverted to before (running)\n` });
    const removed = await vmkit(['snapshot', 'rm', node, 'after']);
    expect(removed).toMatchObject({ code: 0, stdout: `snapshot after of ${node} deleted\n` });
    const left = JSON.parse((await vmkit(['snapshot', 'ls', node, '--json'])).stdout) as Array<{
      name: string;
    }>;
    expect(left.map((s) => s.name)).toEqual(['before']);
  });

  it('exits 2 for a bad name, 3 for an unknown node or snapshot, 4 for a taken name', async () => {
    const bad = await vmkit(['snapshot', node, 'no/slash', '--memory']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/name: must be 1-64 letters, digits/);
    const unknown = await vmkit(['snapshot', 'ls', 'nope-0000']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/NODE: no node has the id or name nope-0000/);
    const missing = await vmkit(['snapshot', 'revert', node, 'never']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/has no snapshot never/);
    await vmkit(['snapshot', node, 'twice', '--memory']);
    const again = await vmkit(['snapshot', node, 'twice', '--memory']);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/already has a snapshot named twice/);
  });
});
