import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CloneSpec, runMasterBuild } from '@vmkit/core/spi';
import * as vbox from 'virtualbox-soap';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { loggedStep, POST_INSTALL_MUTATIONS, STEP_LOG } from '../../test-support/post-install-check.js';
import {
  isoMasterSpec,
  itOnSimulator,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../test-support/vbox-env.js';
import { POST_INSTALL_PROPERTY, postInstallScript } from './post-install-script.js';

// The simulator's guest runs the user data it is given: the generated post-install script, and
// each broken copy of it, run in a node booted with it as NoCloud user data. What the guest then
// shows (machine state, guest property, the steps' log) must tell every broken copy apart.

describe("the simulator's guest runs the post-install script it is given", () => {
  let env: VboxTestEnv;
  beforeAll(async () => {
    env = await vboxTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });

  itOnSimulator(
    'runs #! user data once per instance (not again after a restart), leaves a guest that does not power off running, and does not interpret cloud-config',
    async () => {
      const sim = simOf(env);
      const provider = testProvider(env);
      const master = await runMasterBuild(provider, await isoMasterSpec(env, 'guest-once'), 'guest-once');
      const node = (name: string, userData: string, mac: string) =>
        provider.cloneNode({
          name,
          group: 'g',
          imageId: 'guest-once',
          master,
          hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
          network: { nics: [{ slot: 0, attachment: 'nat', mac, portForwards: [] }] },
          linked: true,
          configDrive: { format: 'nocloud', instanceId: `i-${name}`, userData },
          tags: [],
          userMetadata: {},
        });
      const finished = async (machine: string) => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const runs = sim.guestRuns().filter((r) => r.machine === machine);
          if (runs.length > 0 && runs.every((r) => r.exitCode !== undefined)) return runs;
          if (Date.now() > deadline) throw new Error(`${machine}: its user data did not finish`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      try {
        const user = '#!/bin/sh\necho "ran as $(id -u) in $(pwd)" >> /var/log/runs\n';
        const script = await node('script', user, '52:54:00:00:00:61');
        await provider.startNode(script.id);
        const [run] = await finished(script.id);
        expect(run?.exitCode).toBe(0);
        expect(readFileSync(join(run?.root ?? '', 'var/log/runs'), 'utf8')).toBe('ran as 0 in /\n');
        expect((await provider.getNode(script.id))?.status).toBe('running');
        await provider.stopNode(script.id);
        await provider.startNode(script.id);
        expect((await provider.getNode(script.id))?.status).toBe('running');
        expect(sim.guestRuns().filter((r) => r.machine === script.id)).toHaveLength(1);
        const cloudConfig = '#cloud-config\nruncmd: [poweroff]\npower_state: {mode: poweroff}\n';
        const config = await node('config', cloudConfig, '52:54:00:00:00:62');
        await provider.startNode(config.id);
        expect(sim.guestRuns().filter((r) => r.machine === config.id)).toEqual([]);
        expect((await provider.getNode(config.id))?.status).toBe('running');
        for (const n of [script, config]) await provider.destroyNode(n.id);
        expect(sim.rejections).toEqual([]);
      } finally {
        await provider.deleteMaster(master);
        await provider.close();
      }
    },
  );

  itOnSimulator(
    'a broken script (exits early, no report, no power-off, failure ignored) shows in what the guest leaves',
    async () => {
      const sim = simOf(env);
      const provider = testProvider(env);
      const master = await runMasterBuild(provider, await isoMasterSpec(env, 'guest-runs'), 'guest-runs');
      const manager = await vbox.connect(env.url);
      const api = await manager.logon(env.username, env.password);
      /** Boots a node with the script as user data; what its guest left once the script ended. */
      const boot = async (name: string, script: string) => {
        const spec: CloneSpec = {
          name,
          group: 'g',
          imageId: 'guest-runs',
          master,
          hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
          network: { nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:00:51', portForwards: [] }] },
          linked: true,
          configDrive: { format: 'nocloud', instanceId: `i-${name}`, userData: script },
          tags: [],
          userMetadata: {},
        };
        const node = await provider.cloneNode(spec);
        await provider.startNode(node.id);
        const deadline = Date.now() + 30_000;
        let run = sim.guestRuns().find((r) => r.machine === node.id);
        while (run?.exitCode === undefined) {
          if (Date.now() > deadline) throw new Error(`the guest of ${name} did not finish its user data`);
          await new Promise((r) => setTimeout(r, 20));
          run = sim.guestRuns().find((r) => r.machine === node.id);
        }
        const log = join(run.root, STEP_LOG);
        const left = {
          state: sim.machines().find((m) => m.name === node.id)?.state,
          report: await (await api.findMachine(node.id)).getGuestPropertyValue(POST_INSTALL_PROPERTY),
          ran: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [],
        };
        await provider.destroyNode(node.id);
        return left;
      };
      try {
        const script = postInstallScript([
          loggedStep('one'),
          loggedStep('two', 'exit 4'),
          loggedStep('three'),
        ]);
        const good = { state: 'PoweredOff', report: 'failed:two', ran: ['one', 'two'] };
        expect(await boot('good', script)).toEqual(good);
        const seen: Record<string, unknown> = {};
        for (const { name, mutate } of POST_INSTALL_MUTATIONS)
          seen[name] = await boot(name.replace(/\W+/g, '-'), mutate(script));
        expect(seen).toEqual({
          'exits early': { state: 'Running', report: '', ran: [] },
          'skips the report': { state: 'PoweredOff', report: '', ran: ['one', 'two'] },
          'drops the power-off': { state: 'Running', report: 'failed:two', ran: ['one', 'two'] },
          'ignores a failure': { state: 'PoweredOff', report: 'ok', ran: ['one', 'two', 'three'] },
        });
        expect(sim.rejections).toEqual([]);
      } finally {
        await manager.logoff(api);
        await provider.deleteMaster(master);
        await provider.close();
      }
    },
  );
});
