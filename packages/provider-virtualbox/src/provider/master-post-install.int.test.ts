import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runMasterBuild, VmkitError } from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoMasterSpec, testProvider, type VboxTestEnv, vboxTestEnv } from '../../test-support/vbox-env.js';

describe('VirtualBox master post-install', () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });

  it('boots the master once with a NoCloud drive running the steps, then detaches and deletes the drive', async () => {
    const provider = testProvider(env);
    const spec = {
      ...(await isoMasterSpec(env, 'vbox-post')),
      postInstall: [{ name: 'hello', run: 'echo hello > /etc/motd' }],
    };
    const seen: string[] = [];
    const ref = await runMasterBuild(provider, spec, 'post-master', {
      onProgress: (e) => {
        if (e.step === 'post-install') seen.push(e.message);
      },
    });
    expect(seen.some((m) => /1 step\(s\) ran/.test(m))).toBe(true);
    expect(readdirSync(join(env.folder, 'machines')).filter((f) => f.endsWith('-post-install.iso'))).toEqual(
      [],
    );
    if (env.sim) {
      const master = env.sim.machines().find((m) => m.name === ref.id);
      expect(master?.media.filter((x) => x.endsWith('.iso'))).toEqual([]);
      expect(master?.snapshots).toEqual(['vmkit-base']);
      expect(env.sim.calls.get('IMachine_launchVMProcess')).toBe(2);
      expect(env.sim.media().filter((m) => m.deviceType === 'DVD')).toEqual([]);
      expect(env.sim.rejections).toEqual([]);
    }
    await provider.deleteMaster(ref);
    await provider.close();
  });

  it('a step the guest reports as failed (guest additions) fails the build, and the build leaves nothing', async () => {
    const sim = env.sim;
    if (!sim) return;
    const provider = testProvider(env);
    const spec = {
      ...(await isoMasterSpec(env, 'vbox-post-fail')),
      postInstall: [{ name: 'broken', run: 'exit 1' }],
    };
    // Play the guest's part: while the post-install boot runs, report the step failed as the script would.
    const manager = await vbox.connect(env.url);
    const api = await manager.logon(env.username, env.password);
    let reported = false;
    const error = await runMasterBuild(provider, spec, 'post-fail', {
      onProgress: (e) => {
        if (e.step !== 'post-install' || reported || !/installer running \(Running\)/.test(e.message)) return;
        reported = true;
        void api
          .findMachine(`${env.prefix}m-post-fail`)
          .then((m) => m.setGuestProperty('/vmkit/post-install', 'failed:broken', ''));
      },
    }).catch((e: unknown) => e);
    await manager.logoff(api);
    expect(reported).toBe(true);
    expect(VmkitError.is(error, 'PROVIDER')).toBe(true);
    expect((error as Error).message).toBe('post-install step broken failed in master post-fail');
    expect(sim.machines().filter((m) => m.name.includes('post-fail'))).toEqual([]);
    expect(readdirSync(join(env.folder, 'machines')).filter((f) => f.includes('post-fail'))).toEqual([]);
    expect(sim.rejections).toEqual([]);
    await provider.close();
  });

  it('refuses a step name the script cannot carry, before anything boots', async () => {
    const provider = testProvider(env);
    const spec = {
      ...(await isoMasterSpec(env, 'vbox-post-bad')),
      postInstall: [{ name: 'Bad Name', run: 'true' }],
    };
    const error = await runMasterBuild(provider, spec, 'post-bad').catch((e: unknown) => e);
    expect(VmkitError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(/^postInstall\[0\]\.name:/);
    expect(existsSync(join(env.folder, 'machines', `${env.prefix}m-post-bad-post-install.iso`))).toBe(false);
    expect(env.sim?.machines().filter((m) => m.name.includes('post-bad')) ?? []).toEqual([]);
    await provider.close();
  });
});
