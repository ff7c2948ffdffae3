import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HypervisorProvider, MasterRef } from '@vmkit/core/spi';
import { runMasterBuild } from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { loggedStep, POST_INSTALL_MUTATIONS, STEP_LOG } from '../../../test-support/post-install-check.js';
import {
  isoMasterSpec,
  itOnSimulator,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../../test-support/vbox-env.js';
import { POST_INSTALL_PROPERTY, postInstallScript } from './post-install-script.js';

// The simulator's guest runs the user data it is given: the generated post-install script, and
// each broken copy of it, run in a node booted with it as NoCloud user data. What the guest then
// shows (machine state, guest property, the steps' log) must tell every broken copy apart.

describe("the simulator's guest runs the user data it is given", () => {
  let env: VboxTestEnv;
  let provider: HypervisorProvider;
  let master: MasterRef;
  let macs = 0x50;
  beforeAll(async () => {
    env = await vboxTestEnv();
    provider = testProvider(env);
    master = await runMasterBuild(provider, await isoMasterSpec(env, 'guest-runs'), 'guest-runs');
  });
  afterAll(async () => {
    try {
      await provider.deleteMaster(master);
      await provider.close?.();
    } finally {
      await env.close();
    }
  });

  /** A started node whose NoCloud drive carries the user data (instance id `i-<name>`). */
  const bootWith = async (name: string, userData: string) => {
    const node = await provider.cloneNode({
      name,
      group: 'g',
      imageId: 'guest-runs',
      master,
      hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
      network: {
        nics: [
          { slot: 0, attachment: 'nat', mac: `52:54:00:00:00:${(macs++).toString(16)}`, portForwards: [] },
        ],
      },
      linked: true,
      configDrive: { format: 'nocloud', instanceId: `i-${name}`, userData },
      tags: [],
      userMetadata: {},
    });
    await provider.startNode(node.id);
    return node.id;
  };

  /** Waits until the guest's cloud-init passed `boots` boots (and any script it ran exited). */
  const handled = async (machine: string, boots = 1) => {
    const sim = simOf(env);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const passes = sim.machines().find((m) => m.name === machine)?.cloudInitPasses ?? 0;
      const runs = sim.guestRuns().filter((r) => r.machine === machine);
      if (passes >= boots && runs.every((r) => r.exitCode !== undefined)) return runs;
      if (Date.now() > deadline) throw new Error(`${machine}: cloud-init did not finish with its user data`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  itOnSimulator(
    'runs #! user data once per instance (not again after a restart), leaves a guest that does not power off running, and does not interpret cloud-config',
    async () => {
      const sim = simOf(env);
      const script = await bootWith(
        'script',
        '#!/bin/sh\necho "ran as $(id -u) in $(pwd)" >> /var/log/runs\n',
      );
      const [run, ...more] = await handled(script);
      expect(more).toEqual([]);
      expect(run?.exitCode).toBe(0);
      expect(readFileSync(join(run?.root ?? '', 'var/log/runs'), 'utf8')).toBe('ran as 0 in /\n');
      expect((await provider.getNode(script))?.status).toBe('running');
      await provider.stopNode(script);
      await provider.startNode(script);
      expect((await provider.getNode(script))?.status).toBe('running');
      expect(await handled(script, 2)).toHaveLength(1);
      const config = await bootWith(
        'config',
        '#cloud-config\nruncmd: [poweroff]\npower_state: {mode: poweroff}\n',
      );
      expect(await handled(config)).toEqual([]);
      expect(sim.machines().find((m) => m.name === config)?.cloudInstances).toEqual(['i-config']);
      expect((await provider.getNode(config))?.status).toBe('running');
      for (const id of [script, config]) await provider.destroyNode(id);
      expect(sim.rejections).toEqual([]);
    },
  );

  itOnSimulator(
    'a broken post-install script (exits early, no report, no power-off, failure ignored) shows in what the guest leaves',
    async () => {
      const sim = simOf(env);
      const manager = await vbox.connect(env.url);
      const api = await manager.logon(env.username, env.password);
      /** What the guest left once the script ended: machine state, the report, the steps that ran. */
      const left = async (name: string, script: string) => {
        const id = await bootWith(name, script);
        const [run] = await handled(id);
        const log = join(run?.root ?? '', STEP_LOG);
        const outcome = {
          state: sim.machines().find((m) => m.name === id)?.state,
          report: await (await api.findMachine(id)).getGuestPropertyValue(POST_INSTALL_PROPERTY),
          ran: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [],
        };
        await provider.destroyNode(id);
        return outcome;
      };
      try {
        const script = postInstallScript([
          loggedStep('one'),
          loggedStep('two', 'exit 4'),
          loggedStep('three'),
        ]);
        expect(await left('good', script)).toEqual({
          state: 'PoweredOff',
          report: 'failed:two',
          ran: ['one', 'two'],
        });
        const seen: Record<string, unknown> = {};
        for (const { name, mutate } of POST_INSTALL_MUTATIONS)
          seen[name] = await left(name.replace(/\W+/g, '-'), mutate(script));
        expect(seen).toEqual({
          'exits early': { state: 'Running', report: '', ran: [] },
          'skips the report': { state: 'PoweredOff', report: '', ran: ['one', 'two'] },
          'drops the power-off': { state: 'Running', report: 'failed:two', ran: ['one', 'two'] },
          'ignores a failure': { state: 'PoweredOff', report: 'ok', ran: ['one', 'two', 'three'] },
        });
        expect(sim.rejections).toEqual([]);
      } finally {
        await manager.logoff(api);
      }
    },
  );
});
