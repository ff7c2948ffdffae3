import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isClosedError, VmkitError } from '../errors/vmkit-error.js';
import { runMasterBuild } from '../masters/master-build-pipeline.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { BoundNetwork } from '../model/network-spec.js';
import type { CloneSpec } from '../spi/clone-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { MasterRef } from '../spi/master-build.js';
import type { ProgressEvent } from '../util/progress.js';
import { itTransfersMasterDisks } from './master-transfer-contract.js';

/** What a provider contract run needs. */
export interface ProviderContractSubject {
  /** The provider under test; `init` is called by the suite. */
  readonly provider: HypervisorProvider;
  /** A spec this provider can build quickly (its id is made unique per build by the suite). */
  readonly masterSpec: MasterSpec;
  /** A network to give clones (default: one NAT NIC without forwards). */
  readonly network?: BoundNetwork;
  /** Whether started nodes really run (default true); the test driver of libvirt, say, fakes them. */
  readonly realGuests?: boolean;
  /** Whether to check `exportMasterDisk` and `importMasterDisk` (default: the provider has both). */
  readonly masterTransfer?: boolean;
  /** Called once after the suite: remove what the suite could not. */
  cleanup?(): Promise<void>;
}

const DEFAULT_NETWORK: BoundNetwork = {
  nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:00:01', portForwards: [] }],
};

/**
 * The shared test suite every {@link HypervisorProvider} passes (vitest): master builds through the
 * pipeline with progress and abort, clones, the node lifecycle, listing, destruction, errors, and
 * the closed error after `close()` (the factory is called once more for a provider to close).
 */
export function describeProviderContract(
  name: string,
  factory: () => Promise<ProviderContractSubject>,
): void {
  describe(`Provider contract: ${name}`, () => {
    let subject: ProviderContractSubject;
    let provider: HypervisorProvider;
    let master: MasterRef;
    const run = `c${Date.now().toString(36)}${process.pid.toString(36)}`;
    const made: string[] = [];
    const masters: MasterRef[] = [];

    const cloneSpec = (nodeName: string, overrides: Partial<CloneSpec> = {}): CloneSpec => ({
      name: nodeName,
      group: `${run}-g`,
      imageId: subject.masterSpec.id,
      master,
      hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
      network: subject.network ?? DEFAULT_NETWORK,
      linked: true,
      tags: ['contract'],
      userMetadata: { purpose: 'contract' },
      ...overrides,
    });

    let buildEvents: ProgressEvent[] = [];

    beforeAll(async () => {
      subject = await factory();
      provider = subject.provider;
      await provider.init?.();
      const events: ProgressEvent[] = [];
      master = await runMasterBuild(
        provider,
        { ...subject.masterSpec, id: `${subject.masterSpec.id}` },
        `${run}-master`,
        {
          onProgress: (e) => events.push(e),
        },
      );
      masters.push(master);
      buildEvents = events;
    });

    afterAll(async () => {
      for (const id of made) await provider?.destroyNode(id).catch(() => {});
      for (const ref of masters) await provider?.deleteMaster(ref).catch(() => {});
      await subject?.cleanup?.();
      await provider?.close?.();
    });

    it('reports capabilities and host networks', async () => {
      const caps = await provider.capabilities();
      expect(caps.attachments.length).toBeGreaterThan(0);
      expect(caps.sources.length).toBeGreaterThan(0);
      expect(Array.isArray(await provider.listHostNetworks())).toBe(true);
    });

    it('reports every build step as done or skipped, and post-install without steps as skipped', () => {
      const outcomes = new Map(
        buildEvents.filter((e) => e.stepOutcome !== undefined).map((e) => [e.step, e.stepOutcome]),
      );
      expect(outcomes.size).toBeGreaterThanOrEqual(2);
      expect(outcomes.get('create-and-install')).toBe('done');
      if ((subject.masterSpec.postInstall ?? []).length === 0)
        expect(outcomes.get('post-install')).toBe('skipped');
    });

    it('builds a master that exists until deleted', async () => {
      expect(await provider.mastersExist([master, { id: `${run}-never-built` }])).toEqual([true, false]);
    });

    it('clones a stopped node that lists with its group, image, tags and metadata', async () => {
      const node = await provider.cloneNode(cloneSpec(`${run}-a`));
      made.push(node.id);
      expect(node.name).toBe(`${run}-a`);
      expect(node.status).toBe('stopped');
      expect(node.group).toBe(`${run}-g`);
      expect(node.imageId).toBe(subject.masterSpec.id);
      expect(node.linkedClone).toBe(true);
      const listed = (await provider.listNodes()).find((n) => n.id === node.id);
      expect(listed?.name).toBe(node.name);
      expect(listed?.tags).toEqual(['contract']);
      expect(listed?.userMetadata).toEqual({ purpose: 'contract' });
      expect((await provider.getNode(node.id))?.group).toBe(`${run}-g`);
    });

    it('runs the node lifecycle: start, suspend, resume, reboot, stop', async () => {
      const node = await provider.cloneNode(cloneSpec(`${run}-b`));
      made.push(node.id);
      await provider.startNode(node.id);
      expect((await provider.getNode(node.id))?.status).toBe('running');
      if ((await provider.capabilities()).suspend) {
        await provider.suspendNode(node.id);
        expect((await provider.getNode(node.id))?.status).toBe('suspended');
        await provider.resumeNode(node.id);
        expect((await provider.getNode(node.id))?.status).toBe('running');
      }
      await provider.rebootNode(node.id);
      await provider.stopNode(node.id);
      expect((await provider.getNode(node.id))?.status).toBe('stopped');
    });

    it('refuses node operations with a fired signal: ABORTED, the node unchanged', async () => {
      const node = await provider.cloneNode(cloneSpec(`${run}-s`));
      made.push(node.id);
      const signal = AbortSignal.abort(new Error('caller gave up'));
      const aborted = (e: unknown) => VmkitError.is(e, 'ABORTED');
      await expect(provider.startNode(node.id, { signal })).rejects.toSatisfy(aborted);
      expect((await provider.getNode(node.id))?.status).toBe('stopped');
      await provider.startNode(node.id, { signal: new AbortController().signal });
      for (const op of [provider.stopNode, provider.rebootNode, provider.suspendNode, provider.destroyNode]) {
        await expect(op.call(provider, node.id, { signal })).rejects.toSatisfy(aborted);
        expect((await provider.getNode(node.id))?.status).toBe('running');
      }
    });

    it('refuses a second node of the same name and keeps the first', async () => {
      const node = await provider.cloneNode(cloneSpec(`${run}-c`));
      made.push(node.id);
      await expect(provider.cloneNode(cloneSpec(`${run}-c`))).rejects.toSatisfy((e) =>
        VmkitError.is(e, 'CONFLICT'),
      );
      expect((await provider.listNodes()).filter((n) => n.name === `${run}-c`)).toHaveLength(1);
    });

    it('destroys a node completely, and destroying it again succeeds', async () => {
      const node = await provider.cloneNode(cloneSpec(`${run}-d`));
      await provider.startNode(node.id);
      await provider.destroyNode(node.id);
      expect(await provider.getNode(node.id)).toBeUndefined();
      expect((await provider.listNodes()).some((n) => n.id === node.id)).toBe(false);
      await provider.destroyNode(node.id);
    });

    it('reports NOT_FOUND for unknown nodes and masters', async () => {
      await expect(provider.startNode(`${run}-nope`)).rejects.toSatisfy((e) => VmkitError.is(e, 'NOT_FOUND'));
      await expect(
        provider.cloneNode(cloneSpec(`${run}-e`, { master: { id: `${run}-no-master` } })),
      ).rejects.toSatisfy((e) => VmkitError.is(e, 'NOT_FOUND'));
      expect((await provider.listNodes()).some((n) => n.name === `${run}-e`)).toBe(false);
    });

    it('discards a master build that is aborted', async () => {
      const controller = new AbortController();
      const name = `${run}-aborted`;
      const build = runMasterBuild(provider, subject.masterSpec, name, {
        signal: controller.signal,
        onProgress: (e) => {
          if (e.stepIndex === 1) controller.abort();
        },
      });
      await expect(build).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
      expect(await provider.mastersExist([{ id: name }])).toEqual([false]);
    });

    it('deletes a master, and deleting it again succeeds', async () => {
      const ref = await runMasterBuild(provider, subject.masterSpec, `${run}-deleted`);
      masters.push(ref);
      expect(await provider.mastersExist([ref])).toEqual([true]);
      await provider.deleteMaster(ref);
      expect(await provider.mastersExist([ref])).toEqual([false]);
      await provider.deleteMaster(ref);
    });

    itTransfersMasterDisks(() => ({
      provider,
      masterSpec: subject.masterSpec,
      master,
      run,
      masters,
      ...(subject.masterTransfer === undefined ? {} : { enabled: subject.masterTransfer }),
    }));

    it('refuses calls after close() with the one closed error, and closes once', async () => {
      const other = await factory();
      try {
        const p = other.provider;
        await p.init?.();
        await Promise.all([p.close?.(), p.close?.()]);
        await p.close?.();
        const calls: Array<() => Promise<unknown>> = [
          () => p.capabilities(),
          () => p.listNodes(),
          () => p.getNode(`${run}-none`),
          () => p.startNode(`${run}-none`),
          () => p.mastersExist([{ id: `${run}-none` }]),
        ];
        if (p.init) calls.push(() => p.init?.() as Promise<void>);
        for (const call of calls) {
          const error = await call().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(isClosedError(error), `expected the closed error, got ${String(error)}`).toBe(true);
          expect(error).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/ is closed$/) });
        }
      } finally {
        await other.cleanup?.();
      }
    });
  });
}
