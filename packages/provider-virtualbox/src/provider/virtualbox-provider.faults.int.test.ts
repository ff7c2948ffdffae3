import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  createComputeService,
  isNoSpaceError,
  type MasterSpec,
  RunNodesError,
  VmkitError,
} from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { runMasterBuild } from '@vmkit/core/spi';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isoMasterSpec, testProvider, type VboxTestEnv, vboxTestEnv } from '../../test-support/vbox-env.js';
import type { SimMachineInfo, VboxSimulator } from '../testing/index.js';

/** Long enough that a guest never ends its run by itself while a test watches it. */
const FOREVER_MS = 600_000;

describe('a guest that pauses on a full disk, gets stuck or aborts (the simulator injects the fault)', () => {
  let env: VboxTestEnv;
  let sim: VboxSimulator;
  beforeAll(async () => {
    // Installers and post-install scripts that never finish by themselves: only the fault ends a wait.
    env = await vboxTestEnv({ behaviour: { installerRunMs: FOREVER_MS } });
    if (!env.sim) throw new Error('these tests inject faults into the simulator: unset VMKIT_VBOX_URL');
    sim = env.sim;
  });
  afterAll(async () => {
    await env?.close();
  });

  const machines = () => join(env.folder, 'machines');
  /** Files under the machine folder; throws when the folder is missing (never an empty list by mistake). */
  const files = () =>
    readdirSync(machines(), { recursive: true, encoding: 'utf8' })
      .filter((f) => statSync(join(machines(), f)).isFile())
      .sort();
  const machine = (name: string): SimMachineInfo | undefined => sim.machines().find((m) => m.name === name);
  /** Waits until the machine's VM runs and vmkit listens on its console, as it does while it waits on it. */
  const watched = (name: string) =>
    vi.waitFor(() => expect(machine(name)).toMatchObject({ state: 'Running', consoleListeners: 1 }), {
      timeout: 30_000,
      interval: 5,
    });
  const nothingLeft = () => {
    expect(sim.machines().map((m) => m.name)).toEqual([]);
    expect(sim.media().map((m) => m.location)).toEqual([]);
    expect(files()).toEqual([]);
    expect(sim.rejections).toEqual([]);
  };

  it('a full host disk during the installer run ends the build at once with the no-space error on the machine folder; nothing is left', async () => {
    const provider = testProvider(env, { installTimeoutMs: FOREVER_MS });
    const name = `${env.prefix}m-full`;
    const build = runMasterBuild(provider, await isoMasterSpec(env, 'vbox-full'), 'full').catch(
      (e: unknown) => e,
    );
    await watched(name);
    sim.injectRuntimeError(name);
    // VirtualBox paused the VM before it reported the error.
    expect(machine(name)?.state).toBe('Paused');
    expect(machine(name)?.runtimeErrors.map((e) => e.id)).toEqual(['DrvVD_DISKFULL']);
    const error = (await build) as VmkitError;
    expect(isNoSpaceError(error), String(error)).toBe(true);
    expect(error.message).toMatch(
      new RegExp(
        `^disk full on machine folder ${machines()}: installer ${name} paused: VirtualBox reported DrvVD_DISKFULL`,
      ),
    );
    expect(error.details).toMatchObject({ field: 'machineFolder', machineFolder: machines() });
    expect(error.details.freeBytes).toBeGreaterThan(0);
    nothingLeft();
    await provider.close();
  });

  it.each([
    [
      'a guest panic (Stuck)',
      'stuck',
      (sim: VboxSimulator, name: string) => sim.guestPanic(name),
      'is stuck: its guest panicked (Guru Meditation)',
    ],
    [
      'a killed VM process (Aborted)',
      'killed',
      (sim: VboxSimulator, name: string) => sim.killVmProcess(name),
      'aborted: its VM process ended abnormally (crashed or killed)',
    ],
  ] as const)(
    '%s during the installer run ends the build naming the installer; nothing is left',
    async (_label, master, fault, why) => {
      const provider = testProvider(env, { installTimeoutMs: FOREVER_MS });
      const name = `${env.prefix}m-${master}`;
      const build = runMasterBuild(provider, await isoMasterSpec(env, `vbox-${master}`), master).catch(
        (e: unknown) => e,
      );
      await watched(name);
      fault(sim, name);
      const error = (await build) as VmkitError;
      expect(VmkitError.is(error, 'PROVIDER'), String(error)).toBe(true);
      expect(error.message).toBe(`installer ${name} ${why}`);
      nothingLeft();
      await provider.close();
    },
  );

  it('a full host disk during the post-install boot ends the build at once; the drive and the master are gone', async () => {
    // The installer powers off at once; the post-install step runs until the fault.
    const fast = await vboxTestEnv({ behaviour: { installerRunMs: 20 } });
    const s = fast.sim as VboxSimulator;
    const provider = testProvider(fast, { installTimeoutMs: FOREVER_MS });
    const name = `${fast.prefix}m-post-full`;
    const spec: MasterSpec = {
      ...(await isoMasterSpec(fast, 'vbox-post-full')),
      postInstall: [{ name: 'long', run: 'sleep 600' }],
    };
    try {
      const build = runMasterBuild(provider, spec, 'post-full').catch((e: unknown) => e);
      // The post-install boot: the guest runs the user data (its step sleeps) while vmkit listens.
      await vi.waitFor(
        () => {
          expect(s.guestRuns().map((r) => r.machine)).toEqual([name]);
          expect(s.machines().find((m) => m.name === name)).toMatchObject({
            state: 'Running',
            consoleListeners: 1,
          });
        },
        { timeout: 30_000, interval: 5 },
      );
      s.injectRuntimeError(name);
      const error = (await build) as VmkitError;
      expect(isNoSpaceError(error), String(error)).toBe(true);
      expect(error.message).toContain(`post-install boot ${name} paused: VirtualBox reported DrvVD_DISKFULL`);
      expect(s.machines()).toEqual([]);
      expect(s.media()).toEqual([]);
      const folder = join(fast.folder, 'machines');
      expect(
        readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((f) =>
          statSync(join(folder, f)).isFile(),
        ),
      ).toEqual([]);
      expect(s.rejections).toEqual([]);
    } finally {
      await provider.close();
      await fast.close();
    }
  });

  it('a full host disk during a node start fails that node with the no-space error; node creation leaves nothing and the service works on', async () => {
    const nodeEnv = await vboxTestEnv();
    const s = nodeEnv.sim as VboxSimulator;
    try {
      await using compute = await createComputeService({
        provider: testProvider(nodeEnv, { startWatchMs: 10_000 }),
        store: fileSystemBlobStore({ root: join(nodeEnv.folder, 'store') }),
        images: [await isoMasterSpec(nodeEnv, 'vbox-start-full')],
        ports: { leaseDir: join(nodeEnv.folder, 'leases') },
      });
      await compute.ensureImage('vbox-start-full');
      const isNode = (m: SimMachineInfo) => !m.name.startsWith(`${nodeEnv.prefix}m-`);
      const registry = () => ({
        machines: s.machines().map((m) => m.name),
        media: s.media().map((m) => m.location),
      });
      const before = registry();
      const created = compute.createNodesInGroup('sf', 1, { configDrive: true }).catch((e: unknown) => e);
      let node = '';
      await vi.waitFor(
        () => {
          const m = s.machines().find(isNode);
          expect(m).toMatchObject({ state: 'Running', consoleListeners: 1 });
          node = m?.name ?? '';
        },
        { timeout: 30_000, interval: 5 },
      );
      s.injectRuntimeError(node);
      const error = await created;
      expect(error).toBeInstanceOf(RunNodesError);
      const run = error as RunNodesError;
      expect(run.nodes).toEqual([]);
      expect(run.errors).toHaveLength(1);
      const cause = run.errors[0]?.error;
      expect(isNoSpaceError(cause), String(cause)).toBe(true);
      expect(cause?.message).toContain(`node ${node} paused: VirtualBox reported DrvVD_DISKFULL`);
      expect(registry()).toEqual(before);
      const folder = join(nodeEnv.folder, 'machines');
      expect(readdirSync(folder).filter((f) => f.includes('-config-'))).toEqual([]);
      expect(await compute.listNodes()).toEqual([]);
      // The same service goes on once the disk has room: a node that starts and keeps running.
      const next = await compute.createNodesInGroup('sf', 1);
      expect(next.map((n) => n.status)).toEqual(['running']);
      await compute.destroyNodesMatching(() => true);
      expect(registry()).toEqual(before);
      expect(s.rejections).toEqual([]);
    } finally {
      await nodeEnv.close();
    }
  });
});
