import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ComputeService,
  createComputeService,
  type LogFields,
  type ProgressEvent,
  RunNodesError,
  silentLogger,
} from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isoMasterSpec,
  itOnSimulator,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../test-support/vbox-env.js';

describe('VirtualBox provider end to end through createComputeService', () => {
  let env: VboxTestEnv;
  let leaseDir: string;
  const service = async (extra = {}) =>
    createComputeService({
      provider: testProvider(env, extra),
      store: fileSystemBlobStore({ root: join(env.folder, 'store') }),
      images: [await isoMasterSpec(env, 'vbox-e2e')],
      ports: { leaseDir },
    });

  /** The config drives in the machine folder. */
  const configDrives = () =>
    readdirSync(join(env.folder, 'machines')).filter((f) => /-config-[0-9a-f]+\.iso$/.test(f));

  beforeAll(async () => {
    env = await vboxTestEnv();
    leaseDir = join(env.folder, 'leases');
  });
  afterAll(async () => {
    await env.close();
  });

  it('clones three nodes from one lazily built master with NAT forwards, tags and config drives; the master disk is never written; destroy leaves nothing', async () => {
    const sim = env.sim;
    const events: ProgressEvent[] = [];
    await using compute: ComputeService = await service();
    expect((await compute.listImages())[0]?.status).toBe('buildable');
    const nodes = await compute.createNodesInGroup(
      'web',
      3,
      {
        network: {
          nics: [{ attachment: 'nat', portForwards: [{ protocol: 'tcp', guestPort: 22, hostPort: 'auto' }] }],
        },
        tags: ['e2e', 'web'],
        configDrive: true,
        userData: '#cloud-config\nhostname: test\n',
      },
      { onProgress: (e) => events.push(e) },
    );
    expect(nodes).toHaveLength(3);
    expect(new Set(events.filter((e) => e.phase === 'build').map((e) => e.imageId))).toEqual(
      new Set(['vbox-e2e']),
    );
    const ports = nodes.map((n) => n.hostPorts['tcp-22']);
    expect(new Set(ports).size).toBe(3);
    for (const node of nodes) {
      expect(node.status).toBe('running');
      expect(node.tags).toEqual(['e2e', 'web']);
      expect(node.linkedClone).toBe(true);
      expect(node.publicAddresses).toEqual(['127.0.0.1']);
      // The config drive (user data often holds secrets): an unguessable name, readable by its owner only.
      const drives = readdirSync(join(env.folder, 'machines')).filter((f) =>
        f.startsWith(`${node.id}-config`),
      );
      expect(drives).toHaveLength(1);
      expect(statSync(join(env.folder, 'machines', drives[0] ?? '')).mode & 0o777).toBe(0o600);
      expect(drives[0]).toMatch(/-config-[0-9a-f]{16}\.iso$/);
    }
    if (sim) {
      // The simulated guests run guest additions: their NAT address is reported.
      const seen = await compute.getNode(nodes[0]?.id ?? '');
      expect(seen?.privateAddresses).toEqual(['10.0.2.15']);
      const machines = sim.machines();
      for (const node of nodes) {
        const m = machines.find((x) => x.name === node.id);
        expect(m?.state).toBe('Running');
        expect(m?.redirects).toEqual([
          { slot: 0, name: 'tcp-22', hostPort: node.hostPorts['tcp-22'], guestPort: 22 },
        ]);
        expect(m?.adapters[0]?.mac).toBe(node.network.nics[0]?.mac.replace(/:/g, '').toUpperCase());
        expect(m?.media.some((x) => x.includes(`/${node.id}-config-`))).toBe(true);
      }
      const master = sim.media().find((m) => m.location.includes(`${env.prefix}m-`) && !m.parent);
      // The master's base disk: the parent of its snapshot's differencing disk and of each clone's.
      expect(master?.children).toBe(1 + 3);
      expect(
        sim.media().filter((m) => m.parent === master?.location && m.location.includes('/Snapshots/')),
      ).toHaveLength(1);
      const masterWrites = master?.writes;
      // Every node's own differencing disk took its guest's writes.
      for (const node of nodes) {
        const disk = sim.media().find((m) => m.location.includes(`/${node.id}/`));
        expect(disk?.writes).toBeGreaterThan(0);
        expect(disk?.parent).toBe(master?.location);
      }
      await compute.destroyNodesMatching((n) => n.group === 'web');
      expect(sim.media().find((m) => m.location === master?.location)?.writes).toBe(masterWrites);
      expect(sim.writes().filter((w) => w.corrupting)).toEqual([]);
      expect(sim.machines().filter((m) => !m.name.startsWith(`${env.prefix}m-`))).toEqual([]);
      expect(sim.machines().filter((m) => m.locked)).toEqual([]);
      expect(
        sim
          .media()
          .filter((m) => !m.location.includes(`${env.prefix}m-`) && !m.location.includes('/Snapshots/')),
      ).toEqual([]);
      expect(sim.rejections).toEqual([]);
    } else await compute.destroyNodesMatching((n) => n.group === 'web');
    expect(await compute.listNodes()).toEqual([]);
    expect(configDrives()).toEqual([]);
    expect(readdirSync(leaseDir).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  itOnSimulator(
    'a fault in clone 3 of 5 gives a RunNodesError with 4 nodes and nothing of the fifth',
    async () => {
      const sim = simOf(env);
      await using compute = await service();
      await compute.ensureImage('vbox-e2e');
      const before = sim.machines().length;
      sim.injectFault({ operation: 'IMachine_cloneTo', nth: 3, message: 'injected: out of disk space' });
      const error = await compute
        .createNodesInGroup('five', 5, { configDrive: true })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunNodesError);
      const run = error as RunNodesError;
      expect(run.nodes).toHaveLength(4);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]?.error.message).toMatch(/injected: out of disk space/);
      const machines = sim.machines();
      expect(machines).toHaveLength(before + 4);
      expect(machines.every((m) => m.registered)).toBe(true);
      const names = new Set(run.nodes.map((n) => n.id));
      const drives = configDrives().map((f) => f.replace(/-config-[0-9a-f]{16}\.iso$/, ''));
      expect(drives.sort()).toEqual([...names].sort());
      const nodeDisks = sim
        .media()
        .filter((m) => !m.location.includes(`${env.prefix}m-`) && !m.location.includes('/Snapshots/'));
      expect(nodeDisks.filter((m) => m.deviceType === 'HardDisk')).toHaveLength(4);
      await compute.destroyNodesMatching(() => true);
      expect(sim.machines()).toHaveLength(before);
      expect(sim.rejections).toEqual([]);
    },
  );

  itOnSimulator(
    'vboxwebsrv stopping mid-clone is a PROVIDER error naming the endpoint; after it is back, start-up reconciles',
    async () => {
      const sim = simOf(env);
      {
        // vboxwebsrv stays down: the clean-up after the lost connection gives up quickly.
        await using compute = await service({ reconnectTimeoutMs: 300 });
        await compute.ensureImage('vbox-e2e');
        const before = sim.machines().map((m) => m.name);
        sim.stopAfter('IVirtualBox_registerMachine');
        const error = await compute.createNodesInGroup('cut', 1).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RunNodesError);
        const cause = (error as RunNodesError).errors[0]?.error;
        expect(cause?.code).toBe('PROVIDER');
        expect(cause?.message).toContain(env.url);
        // Half-registered: the clone is registered but carries no vmkit metadata.
        const half = sim.machines().filter((m) => !before.includes(m.name));
        expect(half).toHaveLength(1);
        expect(half[0]?.extraData).toEqual({});
        await sim.start();
      }
      const halfName = sim.machines().find((m) => !m.name.startsWith(`${env.prefix}m-`))?.name;
      {
        // The `logger` option hears the removal.
        const warnings: Array<{ message: string; fields?: LogFields }> = [];
        const logger = {
          ...silentLogger,
          warn: (message: string, fields?: LogFields) =>
            warnings.push({ message, ...(fields ? { fields } : {}) }),
        };
        await using compute = await service({ reconcileAfterMs: 0, logger });
        expect(await compute.listNodes()).toEqual([]);
        expect(warnings).toEqual([
          { message: 'virtualbox: removed a half-made node', fields: { name: halfName } },
        ]);
        expect(sim.machines().filter((m) => !m.name.startsWith(`${env.prefix}m-`))).toEqual([]);
        expect(
          sim
            .media()
            .filter((m) => !m.location.includes(`${env.prefix}m-`) && !m.location.includes('/Snapshots/')),
        ).toEqual([]);
        expect(readdirSync(leaseDir).filter((f) => !f.startsWith('.'))).toEqual([]);
      }
      expect(sim.rejections).toEqual([]);
      expect(sim.websessions.count).toBe(0);
    },
  );
});
