import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMasterBuild, VmkitError } from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedStep, STEP_LOG } from '../../../test-support/post-install-check.js';
import {
  isoMasterSpec,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../../test-support/vbox-env.js';
import { POST_INSTALL_PROPERTY } from './post-install-script.js';

describe('VirtualBox master post-install', () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });

  /** The value of a machine's guest property, read through the web service as the provider does. */
  const guestProperty = async (machine: string, key: string): Promise<string> => {
    const manager = await vbox.connect(env.url);
    const api = await manager.logon(env.username, env.password);
    try {
      return await (await api.findMachine(machine)).getGuestPropertyValue(key);
    } finally {
      await manager.logoff(api);
    }
  };
  /** Names of the machines the web service has registered. */
  const machineNames = async (): Promise<string[]> => {
    const manager = await vbox.connect(env.url);
    const api = await manager.logon(env.username, env.password);
    try {
      return await Promise.all((await api.getMachines()).map((m) => m.getName()));
    } finally {
      await manager.logoff(api);
    }
  };

  it('boots the master once with a NoCloud drive whose script runs the steps in the guest, reports ok and powers off; the drive is detached and deleted', async () => {
    const provider = testProvider(env);
    const spec = {
      ...(await isoMasterSpec(env, 'vbox-post')),
      postInstall: [loggedStep('hello', 'echo hello > /etc/motd'), loggedStep('bye')],
    };
    const seen: string[] = [];
    const ref = await runMasterBuild(provider, spec, 'post-master', {
      onProgress: (e) => {
        if (e.step === 'post-install') seen.push(e.message);
      },
    });
    expect(seen.some((m) => /2 step\(s\) ran/.test(m))).toBe(true);
    expect(readdirSync(join(env.folder, 'machines')).filter((f) => f.endsWith('-post-install.iso'))).toEqual(
      [],
    );
    expect(await guestProperty(ref.id, POST_INSTALL_PROPERTY)).toBe('ok');
    if (env.sim) {
      // The guest ran the script for real: each step's effect is in its root, in order.
      const runs = env.sim.guestRuns().filter((r) => r.machine === ref.id);
      expect(runs.map((r) => r.instanceId)).toEqual(['vmkit-post-install-post-master']);
      const [run] = runs;
      expect(readFileSync(join(run?.root ?? '', STEP_LOG), 'utf8')).toBe('hello\nbye\n');
      expect(readFileSync(join(run?.root ?? '', 'etc/motd'), 'utf8')).toBe('hello\n');
      expect(run?.calls.map((c) => [c.command, ...c.args].join(' '))).toEqual([
        `VBoxControl --nologo guestproperty set ${POST_INSTALL_PROPERTY} ok`,
        'poweroff',
      ]);
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

  it('a step that fails in the guest is reported through guest additions and fails the build naming it; the steps after it never run and the build leaves nothing', async () => {
    const provider = testProvider(env);
    const spec = {
      ...(await isoMasterSpec(env, 'vbox-post-fail')),
      postInstall: [loggedStep('fine'), loggedStep('broken', 'exit 1'), loggedStep('never')],
    };
    const error = await runMasterBuild(provider, spec, 'post-fail').catch((e: unknown) => e);
    expect(VmkitError.is(error, 'PROVIDER')).toBe(true);
    expect((error as Error).message).toBe('post-install step broken failed in master post-fail');
    expect((await machineNames()).filter((n) => n.includes('post-fail'))).toEqual([]);
    expect(readdirSync(join(env.folder, 'machines')).filter((f) => f.includes('post-fail'))).toEqual([]);
    if (env.sim) {
      const [run] = env.sim.guestRuns().filter((r) => r.machine === `${env.prefix}m-post-fail`);
      expect(readFileSync(join(run?.root ?? '', STEP_LOG), 'utf8')).toBe('fine\nbroken\n');
      expect(run?.calls.at(-1)?.command).toBe('poweroff');
      expect(env.sim.rejections).toEqual([]);
    }
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
