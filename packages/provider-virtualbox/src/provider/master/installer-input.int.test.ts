import { existsSync } from 'node:fs';
import type { MasterSpec } from '@vmkit/core';
import { runMasterBuild, VmkitError } from '@vmkit/core/spi';
import { readIso9660 } from '@vmkit/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isoMasterSpec,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../../test-support/vbox-env.js';

describe("VirtualBox installers: a boot command typed through the console's keyboard, answers on a labelled drive", () => {
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
  }, 30_000);

  it('attaches a labelled answers drive to the installer only, then detaches, closes and deletes it', async () => {
    const base = await isoMasterSpec(env, 'vbox-drive');
    const spec = {
      ...base,
      source: {
        ...base.source,
        unattended: { files: { 'ks.cfg': 'user {{user}} on {{hostname}}\n' }, delivery: ['drive'] },
      },
      login: { user: 'ops' },
    } as MasterSpec;
    const provider = testProvider(env);
    const sim = simOf(env);
    const build = runMasterBuild(provider, spec, spec.id);
    // While the installer runs, the drive is attached beside the installer DVD.
    let media: readonly string[] = [];
    while (media.length === 0) {
      const m = sim.machines().find((x) => x.name.includes('vbox-drive') && x.state === 'Running');
      if (m) media = m.media;
      else await new Promise((r) => setImmediate(r));
    }
    const drive = media.find((p) => p.endsWith('-answers.iso')) ?? '';
    const iso = await readIso9660(drive);
    expect(iso.volumeId).toBe('OEMDRV');
    expect(Buffer.from(await iso.readFile('ks.cfg')).toString()).toBe('user ops on vbox-drive\n');
    await build;
    const after = sim.machines().find((x) => x.name.includes('vbox-drive'));
    expect(after?.media.some((p) => p.endsWith('-answers.iso'))).toBe(false);
    expect(sim.media().filter((m) => m.location === drive)).toEqual([]);
    expect(existsSync(drive)).toBe(false);
    await provider.close();
  }, 30_000);

  it("refuses installFinished other than 'poweroff' with UNSUPPORTED naming it; no machine is made", async () => {
    const base = await isoMasterSpec(env, 'vbox-finished');
    const spec = { ...base, source: { ...base.source, installFinished: { port: 22 } } } as MasterSpec;
    const provider = testProvider(env);
    const error = await runMasterBuild(provider, spec, spec.id).catch((e: unknown) => e);
    expect(VmkitError.is(error, 'UNSUPPORTED')).toBe(true);
    expect((error as VmkitError).details.field).toBe('source.installFinished');
    expect(
      simOf(env)
        .machines()
        .filter((m) => m.name.includes(spec.id)),
    ).toEqual([]);
    await provider.close();
  });
});
