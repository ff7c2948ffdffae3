import { join } from 'node:path';
import {
  type ComputeService,
  createComputeService,
  type HypervisorProvider,
  type ProgressEvent,
  VmkitError,
} from '@vmkit/core';
import { fileSystemBlobStore } from '@vmkit/core/blobstore';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import {
  isoMasterSpec,
  itOnSimulator,
  simOf,
  testProvider,
  type VboxTestEnv,
  vboxTestEnv,
} from '../../test-support/vbox-env.js';

// Images made from nodes through the public API on the strict simulator: what VirtualBox is asked
// (IMedium.cloneToBase of the node's current disk, a master machine with a snapshot, a sealing boot
// of the copy) is read back from the simulator's media, machines and guest runs.

describe('images made from nodes on VirtualBox (simulator)', () => {
  let env: VboxTestEnv;
  let compute: ComputeService;
  let provider: HypervisorProvider;

  beforeAll(async () => {
    env = await vboxTestEnv();
    provider = testProvider(env);
    compute = await createComputeService({
      provider,
      store: fileSystemBlobStore({ root: join(env.folder, 'store') }),
      images: [await isoMasterSpec(env, 'vbox-ifn')],
      ports: { leaseDir: join(env.folder, 'leases') },
    });
  });
  afterAll(async () => {
    await compute?.close();
    await env.close();
  });

  itOnSimulator(
    'copies a stopped node to a new base disk, seals the copy, clones it; the node and its master are untouched; delete leaves nothing',
    async () => {
      const sim = simOf(env);
      const [node] = await compute.createNodesInGroup('web', 1);
      const id = node?.id as string;
      // A running node's disk is locked for writing: refused with the reason, nothing made.
      const running = await compute.createImageFromNode(id, { imageId: 'golden' }).catch((e: unknown) => e);
      expect(VmkitError.is(running, 'UNSUPPORTED')).toBe(true);
      expect((running as Error).message).toMatch(/is running.*stop it first/);
      await compute.stopNode(id);
      const nodeDisk = sim.media().find((m) => m.location.includes(`/${id}/`));
      const master = sim.media().find((m) => m.location === nodeDisk?.parent);
      const before = { node: nodeDisk?.writes, master: master?.writes, runs: sim.guestRuns().length };
      expect(before.node).toBeGreaterThan(0);

      const events: ProgressEvent[] = [];
      const image = await compute.createImageFromNode(id, {
        imageId: 'golden',
        onProgress: (e) => events.push(e),
      });
      expect(image).toMatchObject({ id: 'golden', status: 'available' });
      expect(events.some((e) => e.step === 'seal')).toBe(true);
      // A base disk of its own (no parent) holding the node's writes, in a master machine with the snapshot.
      const copy = sim.media().find((m) => m.location.includes(`${env.prefix}m-vmkit-golden-`) && !m.parent);
      expect(copy?.format).toBe('VDI');
      expect(copy?.writes).toBeGreaterThanOrEqual(before.node as number);
      const machine = sim.machines().find((m) => m.name.startsWith(`${env.prefix}m-vmkit-golden-`));
      expect(machine?.snapshots.length).toBe(1);
      // The sealing boot ran the guest clean-up on the new master, not on the node.
      const runs = sim.guestRuns().slice(before.runs);
      expect(runs.map((r) => r.machine)).toEqual([machine?.name]);
      expect(runs[0]?.output).toMatch(/VMKIT-STEP-END vmkit-clean-udev-rules rc=0\n/);
      expect(runs[0]?.output).toMatch(
        /VMKIT-STEP-END vmkit-reset-identity rc=0\nVMKIT-POST-INSTALL-END rc=0/,
      );
      // The node and its master were only read.
      expect(sim.media().find((m) => m.location === nodeDisk?.location)?.writes).toBe(before.node);
      expect(sim.media().find((m) => m.location === master?.location)?.writes).toBe(before.master);
      expect((await compute.getNode(id))?.status).toBe('stopped');

      const template = await compute.templateBuilder().imageId('golden').build();
      const clones = await compute.createNodesInGroup('copy', 2, template);
      for (const clone of clones) {
        // The provider reports the master each node was cloned from (core checks it against the
        // image's current master before describing an image made from the node).
        expect((await provider.getNode(clone.id))?.master).toBe(machine?.name);
        const disk = sim.media().find((m) => m.location.includes(`/${clone.id}/`));
        expect(sim.media().find((m) => m.location === disk?.parent)?.location).toBe(copy?.location);
      }
      await compute.destroyNodesMatching((n) => n.group === 'copy');
      await compute.deleteImage('golden');
      expect(sim.machines().filter((m) => m.name.includes('golden'))).toEqual([]);
      expect(sim.media().filter((m) => m.location.includes('golden'))).toEqual([]);
      await compute.destroyNode(id);
      expect(sim.rejections).toEqual([]);
    },
  );

  itOnSimulator('an aborted copy leaves no machine, disk or record', async () => {
    const sim = simOf(env);
    const [node] = await compute.createNodesInGroup('abort', 1);
    const id = node?.id as string;
    await compute.stopNode(id);
    const machines = sim.machines().map((m) => m.name);
    const media = sim.media().map((m) => m.location);
    const controller = new AbortController();
    const making = compute.createImageFromNode(id, {
      imageId: 'aborted',
      signal: controller.signal,
      onProgress: (e) => {
        if (e.step === 'seal') controller.abort();
      },
    });
    await expect(making).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
    expect(sim.machines().map((m) => m.name)).toEqual(machines);
    expect(sim.media().map((m) => m.location)).toEqual(media);
    expect(await compute.getImage('aborted')).toBeUndefined();
    await compute.destroyNode(id);
  });
});
