import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WaitForNodeOptions } from '@vmkit/core';
import { VmkitError } from '@vmkit/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeNode, useFakeService } from '../../test-support/fake-guest-service.js';
import { runCli } from '../../test-support/run-cli.js';

vi.mock('../runtime/open-service.js', () =>
  import('../../test-support/fake-guest-service.js').then((m) => m.fakeOpenServiceModule()),
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-up-agent-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const nodes = [fakeNode('web-0001'), fakeNode('web-0002')];

describe('vmkit up --wait=agent', () => {
  it('waits for every node through waitForNode (no port forward needed), then prints them', async () => {
    const fake = useFakeService(nodes, { wait: async (id) => nodes.find((n) => n.id === id) ?? nodes[0]! });
    const run = await runCli(
      ['--store', dir, 'up', 'web', '-n', '2', '--wait=agent', '--wait-timeout', '90s'],
      dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const waits = fake.calls.filter((c) => c.method === 'waitForNode');
    expect(waits.map((c) => c.args[0])).toEqual(['id-web-0001', 'id-web-0002']);
    const options = waits[0]?.args[1] as WaitForNodeOptions;
    expect(options.until).toBe('agent');
    expect(options.timeoutMs).toBeGreaterThan(85_000);
    expect(options.timeoutMs).toBeLessThanOrEqual(90_000);
    expect(run.stderr).toMatch(/waiting for 2 node\(s\) to answer through the guest agent/);
    expect(run.stdout).toMatch(/^web-0001 +web +tiny +running/m);
  });

  it('names the nodes whose agent did not answer in time: exit 7; another failure is its own', async () => {
    useFakeService(nodes, {
      wait: async (id) => {
        if (id === 'id-web-0002') throw new VmkitError('TIMEOUT', 'waitForNode: no answer');
        return nodes[0]!;
      },
    });
    const late = await runCli(
      ['--store', dir, 'up', 'web', '-n', '2', '--wait=agent', '--wait-timeout', '5s'],
      dir,
    );
    expect(late.code).toBe(7);
    expect(late.stderr).toMatch(/^vmkit: --wait: web-0002 did not answer through the guest agent within 5s/m);
    useFakeService(nodes, {
      wait: async () => {
        throw new VmkitError('UNSUPPORTED', 'waitForNode: the provider has no guest agent');
      },
    });
    const none = await runCli(['--store', dir, 'up', 'web', '-n', '1', '--wait=agent'], dir);
    expect(none.code).toBe(8);
    expect(none.stderr).toMatch(/^vmkit: waitForNode: the provider has no guest agent$/m);
  });
});
