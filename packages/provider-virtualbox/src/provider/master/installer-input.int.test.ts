import type { MasterSpec } from '@vmkit/core';
import { runMasterBuild, VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isoMasterSpec,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../../test-support/vbox-env.js';

describe("VirtualBox installers: a boot command typed through the console's keyboard; answer files refused", () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    // The simulated installer runs long enough for the keys to be typed first.
    env = await vboxTestEnv({ behaviour: { installerRunMs: 2000 } });
  });
  afterAll(async () => {
    await env.close();
  });

  it('types the boot command as set-1 scancodes after bootWait, then waits for the power-off', async () => {
    const base = await isoMasterSpec(env, 'vbox-typed');
    const spec = {
      ...base,
      source: { ...base.source, bootWait: 100, bootCommand: ['<esc><wait1ms>a{{hostname}}', 'Z<enter>'] },
    } as MasterSpec;
    const provider = testProvider(env);
    await runMasterBuild(provider, spec, spec.id);
    const machine = simOf(env)
      .machines()
      .find((m) => m.name.includes('vbox-typed'));
    // esc; a; v b o x - t y p e d (the spec id); shift+z; enter: makes, then breaks.
    const key = (k: number) => [k, k | 0x80];
    const word = [0x2f, 0x30, 0x18, 0x2d, 0x0c, 0x14, 0x15, 0x19, 0x12, 0x20].flatMap(key);
    expect(machine?.scancodes).toEqual([
      ...key(0x01),
      ...key(0x1e),
      ...word,
      0x2a,
      0x2c,
      0xac,
      0xaa,
      ...key(0x1c),
    ]);
    expect(machine?.state).toBe('PoweredOff');
    await provider.close();
  });

  it('refuses unattended with UNSUPPORTED naming it; no machine or medium is made', async () => {
    const base = await isoMasterSpec(env, 'vbox-unattended');
    const spec = {
      ...base,
      source: { ...base.source, unattended: { files: { 'ks.cfg': 'text\n' }, delivery: ['drive'] } },
    } as MasterSpec;
    const provider = testProvider(env);
    const error = await runMasterBuild(provider, spec, spec.id).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as VmkitError).details.field).toBe('source.unattended');
    expect((error as Error).message).toMatch(/^source\.unattended: answer files are not delivered/);
    expect(
      simOf(env)
        .machines()
        .filter((m) => m.name.includes(spec.id)),
    ).toEqual([]);
    await provider.close();
  });
});
