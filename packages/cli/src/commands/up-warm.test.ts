import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeNode, useFakeService } from '../../test-support/fake-guest-service.js';
import { runCli } from '../../test-support/run-cli.js';

vi.mock('../runtime/open-service.js', () =>
  import('../../test-support/fake-guest-service.js').then((m) => m.fakeOpenServiceModule()),
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmkit-cli-up-warm-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('vmkit up --warm', () => {
  it('asks createNodesInGroup for warm nodes; without the flag it does not', async () => {
    const fake = useFakeService([fakeNode('web-0001')]);
    const run = await runCli(['--store', dir, 'up', 'web', '-n', '1', '--warm'], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(fake.calls.find((c) => c.method === 'createNodesInGroup')?.args).toEqual([
      'web',
      1,
      { warm: true },
    ]);
    const cold = useFakeService([fakeNode('web-0001')]);
    expect((await runCli(['--store', dir, 'up', 'web', '-n', '1'], dir)).code).toBe(0);
    expect(cold.calls.find((c) => c.method === 'createNodesInGroup')?.args).toEqual([
      'web',
      1,
      { warm: undefined },
    ]);
  });
});
