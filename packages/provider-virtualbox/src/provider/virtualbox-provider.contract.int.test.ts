import { describeProviderContract } from '@vmkit/core/testing';
import { afterAll, expect, it } from 'vitest';
import { isoMasterSpec, testProvider, type VboxTestEnv, vboxTestEnv } from '../../test-support/vbox-env.js';

let env: VboxTestEnv | undefined;

describeProviderContract(
  process.env.VMKIT_VBOX_URL ? 'virtualbox (real vboxwebsrv)' : 'virtualbox (vboxwebsrv simulator)',
  async () => {
    env ??= await vboxTestEnv(); // the contract asks for a second provider: same simulator
    return {
      provider: testProvider(env),
      masterSpec: await isoMasterSpec(env, 'vbox-contract'),
    };
  },
);

it('leaves no rejected request, locked machine or stray medium behind', () => {
  const sim = env?.sim;
  if (sim) {
    expect(sim.rejections).toEqual([]);
    expect(sim.machines().filter((m) => m.locked)).toEqual([]);
    expect(sim.machines().map((m) => m.name)).toEqual([]);
    expect(sim.media()).toEqual([]);
    expect(sim.writes().filter((w) => w.corrupting)).toEqual([]);
    expect(sim.requestCount).toBeGreaterThan(50);
    // The provider logged off on close: no websession (and so no reference) is left.
    expect(sim.websessions).toEqual({ count: 0, references: 0 });
  }
});

afterAll(async () => {
  await env?.close();
});
