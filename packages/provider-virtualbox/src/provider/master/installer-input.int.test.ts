import type { MasterSpec } from '@vmkit/core';
import { runMasterBuild, VmkitError } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isoMasterSpec,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../../test-support/vbox-env.js';

describe('VirtualBox: answer files and boot commands are not done yet, and say so before anything is made', () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });

  it.each([
    [
      'unattended',
      { unattended: { files: { 'ks.cfg': 'text\n' }, delivery: ['drive'] } },
      /^source\.unattended: answer files are not delivered/,
    ],
    [
      'bootCommand',
      { bootCommand: ['<esc>linux ks=cdrom:/ks.cfg<enter>'] },
      /^source\.bootCommand: boot commands are not typed/,
    ],
  ])('refuses %s with UNSUPPORTED naming it; no machine or medium is made', async (field, extra, message) => {
    const base = await isoMasterSpec(env, `vbox-${field.toLowerCase()}`);
    const spec = { ...base, source: { ...base.source, ...extra } } as MasterSpec;
    const provider = testProvider(env);
    const error = await runMasterBuild(provider, spec, spec.id).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as VmkitError).details.field).toBe(`source.${field}`);
    expect((error as Error).message).toMatch(message);
    if (env.sim) {
      expect(env.sim.machines().filter((m) => m.name.includes(spec.id))).toEqual([]);
      expect(env.sim.media().filter((m) => m.location.includes('installer.iso'))).toEqual([]);
    }
    await provider.close();
  });
});
