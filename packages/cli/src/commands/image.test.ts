import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryProvider } from '@vmkit/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeMemoryGuestNode } from '../../test-support/memory-guest-service.js';
import { runCli } from '../../test-support/run-cli.js';

// The command opens core's compute service on the memory provider over state kept in a folder,
// as it would a hypervisor (see memory-guest-service.ts).
vi.mock('../runtime/open-service.js', () =>
  import('../../test-support/memory-guest-service.js').then((m) => m.memoryOpenServiceModule()),
);

let dir: string;
let node: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-image-'));
  node = (await makeMemoryGuestNode(dir)).name;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vmkit = (args: string[]) => runCli(['--store', join(dir, 'store'), ...args], dir);

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
    // The hypervisor's own view: the sealed copy's last step is the seal.
    const provider = memoryProvider({ statePath: join(dir, 'provider.json') });
    const steps = provider.masterNames().map((m) => [m.split('-')[1], provider.masterSteps(m)?.at(-1)]);
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
