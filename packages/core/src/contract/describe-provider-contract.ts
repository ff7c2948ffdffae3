import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isClosedError, VmkitError } from '../errors/vmkit-error.js';
import { newMasterName } from '../masters/build-and-record.js';
import { runMasterBuild } from '../masters/master-build-pipeline.js';
import type { BoundNetwork } from '../model/network-spec.js';
import type { CloneSpec } from '../spi/clone-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { MasterRef } from '../spi/master-build.js';
import { specHash } from '../util/canonical-json.js';
import type { ProgressEvent } from '../util/progress.js';
import { abortingInSecondStep } from './contract-abort.js';
import { itHandlesFirmware } from './firmware-contract.js';
import { itReachesInsideNodes } from './guest-exec-contract.js';
import { itChecksMasterRefs } from './master-ref-contract.js';
import { itTransfersMasterDisks } from './master-transfer-contract.js';
import { itMakesImagesFromNodes } from './node-image-contract.js';
import type { ProviderContractSubject } from './provider-contract-subject.js';
import { itSharesFolders } from './shared-folder-contract.js';
import { itSnapshotsNodes } from './snapshot-contract.js';
import { itCarriesStaticAddresses } from './static-address-contract.js';

export type { ProviderContractSubject } from './provider-contract-subject.js';

const DEFAULT_NETWORK: BoundNetwork = {
  nics: [{ slot: 0, attachment: 'nat', mac: '52:54:00:00:00:01', portForwards: [] }],
};

/**
 * The shared test suite every {@link HypervisorProvider} passes (vitest): master builds through the
 * pipeline with progress and abort, clones, the node lifecycle, listing, destruction, errors,
 * scripts, copies and guest addresses through the guest agent (or `UNSUPPORTED` without one), node
 * snapshots where the capabilities list them (else `UNSUPPORTED`), masters made from nodes where
 * they list `imageFromNode`,
 * `hardware.firmware: 'efi'` where the capabilities list it (refused early elsewhere), shared
 * folders where the capabilities name a type (refused elsewhere), the MACs a static address's
 * network config names kept on every config drive format, and
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
    /** The hypervisor's real objects (the subject's probe, else the provider's artefact listing). */
    const listReal = async (): Promise<string[]> => {
      if (subject.leftovers) return [...(await subject.leftovers())].sort();
      if (!provider.listArtefacts) throw new Error('the contract needs leftovers() or listArtefacts()');
      return (await provider.listArtefacts()).map((a) => `${a.kind}:${a.id}`).sort();
    };

    beforeAll(async () => {
      subject = await factory();
      provider = subject.provider;
      await provider.init?.();
      const events: ProgressEvent[] = [];
      // Named as core names every master it builds, so checkMasterRef sees what it sees in use.
      master = await runMasterBuild(
        provider,
        subject.masterSpec,
        newMasterName(subject.masterSpec, specHash(subject.masterSpec)),
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
      await subject?.cleanup?.({ run });
      await provider?.close?.();
    });

    it('reports the capabilities and host networks the hypervisor has', async () => {
      const caps = await provider.capabilities();
      expect(caps.attachments.length).toBeGreaterThan(0);
      expect(caps.sources.length).toBeGreaterThan(0);
      expect(caps).toMatchObject(subject.expectedCapabilities);
      const expected = await subject.hostNetworks();
      expect(expected.length, 'hostNetworks() must name at least one network').toBeGreaterThan(0);
      const listed = await provider.listHostNetworks();
      for (const network of expected) {
        expect(listed.filter((n) => n.name === network.name)).toEqual([expect.objectContaining(network)]);
      }
    });

    it('reports every build step as done or skipped, and post-install without steps as skipped', () => {
      const outcomes = new Map(
        buildEvents.filter((e) => e.stepOutcome !== undefined).map((e) => [e.step, e.stepOutcome]),
      );
      const stepCount = buildEvents[0]?.stepCount ?? 0;
      expect(stepCount).toBeGreaterThanOrEqual(2);
      // Each step of the plan reported exactly once, as done or skipped.
      const reported = buildEvents.filter((e) => e.stepOutcome !== undefined);
      expect(reported.map((e) => e.stepIndex)).toEqual(Array.from({ length: stepCount }, (_, i) => i + 1));
      expect(reported.every((e) => e.stepOutcome === 'done' || e.stepOutcome === 'skipped')).toBe(true);
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
      const booted = await waitForBootId(subject, node.id, () => true);
      await provider.rebootNode(node.id);
      expect((await provider.getNode(node.id))?.status).toBe('running');
      await waitForBootId(subject, node.id, (id) => id !== booted);
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
      // A running node may hold the subject's forwarded host port: the next tests start nodes too.
      await provider.destroyNode(node.id);
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
      const before = await listReal();
      const node = await provider.cloneNode(cloneSpec(`${run}-d`));
      await provider.startNode(node.id);
      expect((await listReal()).length).toBeGreaterThan(before.length);
      await provider.destroyNode(node.id);
      expect(await listReal()).toEqual(before);
      expect(await provider.getNode(node.id)).toBeUndefined();
      expect((await provider.listNodes()).some((n) => n.id === node.id)).toBe(false);
      await provider.destroyNode(node.id);
    });

    it('reports NOT_FOUND for unknown nodes and masters, and a refused clone leaves nothing', async () => {
      const before = await listReal();
      await expect(provider.startNode(`${run}-nope`)).rejects.toSatisfy((e) => VmkitError.is(e, 'NOT_FOUND'));
      await expect(
        provider.cloneNode(cloneSpec(`${run}-e`, { master: { id: `${run}-no-master` } })),
      ).rejects.toSatisfy((e) => VmkitError.is(e, 'NOT_FOUND'));
      expect((await provider.listNodes()).some((n) => n.name === `${run}-e`)).toBe(false);
      expect(await listReal()).toEqual(before);
    });

    it('discards a master build that is aborted, leaving no real object behind', async () => {
      const before = await listReal();
      let during: string[] = [];
      const controller = new AbortController();
      const probe = abortingInSecondStep(provider, controller, async () => {
        during = await listReal();
      });
      const build = runMasterBuild(probe, subject.masterSpec, `${run}-aborted`, {
        signal: controller.signal,
      });
      await expect(build).rejects.toSatisfy((e) => VmkitError.is(e, 'ABORTED'));
      // The build had made something real (its disk) before the abort, and discard removed it all.
      expect(during.filter((n) => !before.includes(n)).length).toBeGreaterThan(0);
      expect(await listReal()).toEqual(before);
    });

    it('deletes a master, and deleting it again succeeds', async () => {
      const before = await listReal();
      const ref = await runMasterBuild(provider, subject.masterSpec, `${run}-deleted`);
      masters.push(ref);
      expect(await provider.mastersExist([ref])).toEqual([true]);
      expect((await listReal()).length).toBeGreaterThan(before.length);
      await provider.deleteMaster(ref);
      expect(await provider.mastersExist([ref])).toEqual([false]);
      expect(await listReal()).toEqual(before);
      await provider.deleteMaster(ref);
    });

    itChecksMasterRefs(() => ({ provider, masterSpec: subject.masterSpec, master, run }));

    itReachesInsideNodes(() => ({
      provider,
      run,
      cloneSpec,
      made,
      agentTimeoutMs: subject.agentTimeoutMs ?? 180_000,
    }));

    itSnapshotsNodes(() => ({ provider, run, cloneSpec, made, listReal }));
    itCarriesStaticAddresses(() => ({
      provider,
      run,
      cloneSpec,
      made,
      listReal,
      configDrives: subject.configDrives ?? true,
    }));
    itMakesImagesFromNodes(() => ({
      provider,
      masterSpec: subject.masterSpec,
      run,
      cloneSpec,
      made,
      masters,
      listReal,
      agentTimeoutMs: subject.agentTimeoutMs ?? 180_000,
    }));
    itHandlesFirmware(() => ({
      provider,
      masterSpec: subject.masterSpec,
      run,
      masters,
      made,
      cloneSpec,
      listReal,
    }));

    itSharesFolders(() => ({
      provider,
      run,
      made,
      cloneSpec,
      listReal,
      ...(subject.sharedFolders ? { sharedFolders: subject.sharedFolders.bind(subject) } : {}),
    }));

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
        await other.cleanup?.({ run });
      }
    });
  });
}

/** Polls the subject's boot id until `accept` takes one (the guest may still be booting). */
async function waitForBootId(
  subject: ProviderContractSubject,
  nodeId: string,
  accept: (id: string) => boolean,
  timeoutMs = 180_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  while (Date.now() < deadline) {
    last = await subject.bootId(nodeId);
    if (last !== undefined && accept(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`node ${nodeId}: no accepted boot id within ${timeoutMs} ms (last: ${String(last)})`);
}
