import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createComputeService, type MasterSpec, type NodeMetadata, RunNodesError } from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isoMasterSpec, testProvider, type VboxTestEnv, vboxTestEnv } from '../../test-support/vbox-env.js';
import type { VboxSimulator } from '../testing/index.js';

/** How long the simulated vboxwebsrv stays down when it restarts. */
const DOWN_MS = 300;

describe('vboxwebsrv restarting while vmkit works (the simulator restarts its web service)', () => {
  let env: VboxTestEnv;
  let sim: VboxSimulator;
  let leaseDir: string;
  let restarts = 0;
  const service = async () =>
    createComputeService({
      provider: testProvider(env, { reconnectTimeoutMs: 10_000 }),
      store: fileSystemBlobStore({ root: join(env.folder, 'store') }),
      images: [await isoMasterSpec(env, 'vbox-restart')],
      ports: { leaseDir },
    });
  const isMaster = (location: string) => location.includes(`${env.prefix}m-`);
  /** Node machines, node disks and config drives: what a later call would have to clean. */
  const made = () => {
    const folder = join(env.folder, 'machines');
    return {
      machines: sim
        .machines()
        .filter((m) => !isMaster(m.name))
        .map((m) => m.name)
        .sort(),
      disks: sim
        .media()
        .filter(
          (m) => m.deviceType === 'HardDisk' && !isMaster(m.location) && !m.location.includes('/Snapshots/'),
        )
        .map((m) => m.location)
        .sort(),
      // readdirSync throws when the folder is missing: never an empty list by mistake.
      drives: readdirSync(folder)
        .filter((f) => /-config-[0-9a-f]{16}\.iso$/.test(f))
        .sort(),
    };
  };
  const expected = (nodes: readonly NodeMetadata[]) => ({
    machines: nodes.map((n) => n.id).sort(),
    disks: nodes.map((n) => join(env.folder, 'machines', n.id, `${n.id}-00-diff.vdi`)).sort(),
    drives: made().drives.filter((f) => nodes.some((n) => f.startsWith(`${n.id}-config-`))),
  });
  /** Rejections other than the stale references a restart makes (those are the point). */
  const misuse = () => sim.rejections.filter((r) => !/Invalid managed object reference/.test(r.message));

  beforeAll(async () => {
    env = await vboxTestEnv();
    if (!env.sim) throw new Error('these tests restart the simulator: unset VMKIT_VBOX_URL');
    sim = env.sim;
    leaseDir = join(env.folder, 'leases');
    await using compute = await service();
    await compute.ensureImage('vbox-restart');
  });
  afterAll(async () => {
    await env?.close();
  });

  it.each([
    ['the 2nd clone started', 'IMachine_cloneTo', 2],
    ['the 3rd clone was registered', 'IVirtualBox_registerMachine', 3],
    ['the 2nd config drive was attached', 'IMachine_attachDevice', 2],
    ['the 4th node was launched', 'IMachine_launchVMProcess', 4],
  ] as const)(
    'restarted after %s of createNodesInGroup(4): a truthful outcome, nothing left over, the service works on',
    async (_label, operation, nth) => {
      await using compute = await service();
      sim.stopAfter(operation, nth, DOWN_MS);
      let nodes: readonly NodeMetadata[];
      try {
        nodes = await compute.createNodesInGroup('rs', 4, { configDrive: true });
      } catch (error) {
        expect(error).toBeInstanceOf(RunNodesError);
        const run = error as RunNodesError;
        expect(run.nodes.length + run.errors.length).toBe(4);
        for (const e of run.errors) expect(e.error.retryable, e.error.message).toBe(true);
        nodes = run.nodes;
      }
      // The restart happened during the call (not before it began, not after it ended).
      expect(sim.restarts).toBe(++restarts);
      expect(made()).toEqual(expected(nodes));
      for (const n of nodes)
        expect(sim.machines().find((m) => m.name === n.id)?.state, `${n.id} returned as running`).toBe(
          'Running',
        );
      expect((await compute.listNodes()).map((n) => n.id).sort()).toEqual(nodes.map((n) => n.id).sort());
      // The same service goes on: one more node, then everything destroyed.
      const more = await compute.createNodesInGroup('rs', 1, { configDrive: true });
      expect(more).toHaveLength(1);
      await compute.destroyNodesMatching(() => true);
      expect(made()).toEqual({ machines: [], disks: [], drives: [] });
      expect(sim.machines().filter((m) => m.locked)).toEqual([]);
      expect(misuse()).toEqual([]);
    },
  );

  it.each([
    ['a guest was sent the power button', 'IConsole_powerButton', 2],
    ['a machine was unregistered', 'IMachine_unregister', 2],
    ['a machine deletion began', 'IMachine_deleteConfig', 1],
  ] as const)(
    'restarted after %s during a destroy: every node gone, nothing left over, the service works on',
    async (_label, operation, nth) => {
      await using compute = await service();
      const nodes = await compute.createNodesInGroup('rd', 3, { configDrive: true });
      expect(made()).toEqual(expected(nodes));
      sim.stopAfter(operation, nth, DOWN_MS);
      await compute.destroyNodesMatching((n) => n.group === 'rd');
      expect(sim.restarts).toBe(++restarts);
      expect(made()).toEqual({ machines: [], disks: [], drives: [] });
      expect(await compute.listNodes()).toEqual([]);
      const next = await compute.createNodesInGroup('rd', 1);
      expect(next).toHaveLength(1);
      await compute.destroyNodesMatching(() => true);
      expect(made()).toEqual({ machines: [], disks: [], drives: [] });
      expect(sim.machines().filter((m) => m.locked)).toEqual([]);
      expect(misuse()).toEqual([]);
    },
  );
});

describe('vboxwebsrv restarting during a master build (the simulator restarts its web service)', () => {
  let env: VboxTestEnv;
  let sim: VboxSimulator;
  beforeAll(async () => {
    // An installer and a post-install boot long enough for a restart to fall inside them.
    env = await vboxTestEnv({ behaviour: { installerRunMs: 2_000 } });
    if (!env.sim) throw new Error('these tests restart the simulator: unset VMKIT_VBOX_URL');
    sim = env.sim;
  });
  afterAll(async () => {
    await env?.close();
  });

  const service = async (spec: MasterSpec) =>
    createComputeService({
      provider: testProvider(env, { reconnectTimeoutMs: 10_000 }),
      store: fileSystemBlobStore({ root: join(env.folder, 'store') }),
      images: [spec],
      ports: { leaseDir: join(env.folder, 'leases') },
    });
  const spec = async (id: string): Promise<MasterSpec> => ({
    ...(await isoMasterSpec(env, id)),
    postInstall: [{ name: 'settle', run: 'sleep 1' }],
  });
  /** Machines, media and machine-folder files: what a build leaves. */
  const left = () => {
    const folder = join(env.folder, 'machines');
    return {
      machines: sim.machines().map((m) => `${m.name} ${m.state}${m.locked ? ' locked' : ''}`),
      media: sim.media().map((m) => m.location),
      // readdirSync throws when the folder is missing: never an empty list by mistake.
      files: readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter(
        (f) => !statSync(join(folder, f)).isDirectory(),
      ),
    };
  };
  const misuse = () => sim.rejections.filter((r) => !/Invalid managed object reference/.test(r.message));
  let restarts = 0;

  /** The master machine being built, once it runs with vmkit listening on its console, and after `runs` guest runs. */
  const running = (prefix: string, runs: number) =>
    vi.waitFor(
      () => {
        expect(sim.guestRuns()).toHaveLength(runs);
        expect(sim.machines().find((m) => m.name.startsWith(prefix))).toMatchObject({
          state: 'Running',
          consoleListeners: 1,
        });
      },
      { timeout: 30_000, interval: 5 },
    );

  it.each([
    ['the installer run', 0],
    ['the post-install boot', 1],
    ['the snapshot', -1],
  ] as const)(
    'restarted during %s: ensureImage builds the master all the same, nothing else is left, the next ensureImage works',
    async (label, runs) => {
      const id = `vbox-rb-${restarts + 1}`;
      await using compute = await service(await spec(id));
      const prefix = `${env.prefix}m-`;
      const runsBefore = sim.guestRuns().length;
      if (runs < 0) sim.stopAfter('IMachine_takeSnapshot', 1, DOWN_MS);
      const building = compute.ensureImage(id);
      if (runs >= 0) {
        await running(prefix, runsBefore + runs);
        await sim.restartWebService(DOWN_MS);
      }
      await building;
      // The restart fell inside the build.
      expect(sim.restarts, label).toBe(++restarts);
      expect(sim.machines().map((m) => [m.name.startsWith(prefix), m.state, m.locked, m.snapshots])).toEqual([
        [true, 'PoweredOff', false, ['vmkit-base']],
      ]);
      // The master's disk and its snapshot's differencing disk; no ISO, no post-install drive.
      expect(sim.media().filter((m) => m.deviceType !== 'HardDisk')).toEqual([]);
      expect(left().files).toEqual([]);
      expect(sim.guestRuns()).toHaveLength(runsBefore + 1);
      expect(misuse()).toEqual([]);
      // The next ensureImage on the same service works and builds nothing.
      await compute.ensureImage(id);
      expect(sim.machines()).toHaveLength(1);
      await compute.deleteImage(id);
      expect(left()).toEqual({ machines: [], media: [], files: [] });
    },
  );
});
