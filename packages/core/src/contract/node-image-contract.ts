import { expect, it } from 'vitest';
import { nodeImageSupport } from '../compute/image-from-node.js';
import { waitForNode } from '../compute/wait-for-node.js';
import { VmkitError, type VmkitErrorCode } from '../errors/vmkit-error.js';
import { newMasterName } from '../masters/build-and-record.js';
import { masterSpecHash } from '../masters/login-secrets.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { CloneSpec } from '../spi/clone-spec.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { MasterRef } from '../spi/master-build.js';
import { contractGuestParts } from './guest-exec-contract.js';

/** What the image-from-node checks of the provider contract read from the running suite. */
export interface NodeImageContractSubject {
  readonly provider: HypervisorProvider;
  /** The spec the suite's master was built from. */
  readonly masterSpec: MasterSpec;
  /** The run's unique name prefix. */
  readonly run: string;
  /** A clone spec for a node of this name (over the suite's master unless overridden). */
  readonly cloneSpec: (name: string, overrides?: Partial<CloneSpec>) => CloneSpec;
  /** Records a node for the suite's cleanup. */
  readonly made: string[];
  /** Records a master for the suite's cleanup. */
  readonly masters: MasterRef[];
  /** The hypervisor's real objects, read apart from the provider. */
  readonly listReal: () => Promise<string[]>;
  /** How long a started node may take until its guest agent answers (ms). */
  readonly agentTimeoutMs: number;
}

const code = (c: VmkitErrorCode) => (e: unknown) => VmkitError.is(e, c);

/**
 * The image-from-node section of the provider contract: for a provider whose capabilities list
 * `imageFromNode`, a master made from a node (stopped and, where supported, running) passes the
 * provider's own reference check, exists, clones, leaves the node in its state, and is deleted
 * like any master; an unknown node is `NOT_FOUND`, an aborted copy leaves nothing. A provider
 * without the capability is refused by core with `UNSUPPORTED`.
 */
export function itMakesImagesFromNodes(get: () => NodeImageContractSubject): void {
  it('makes masters from nodes that check, exist, clone and delete like built ones', async () => {
    const { provider, masterSpec, run, cloneSpec, made, masters, listReal, agentTimeoutMs } = get();
    const caps = (await provider.capabilities()).imageFromNode;
    if (!caps) {
      await expect(nodeImageSupport(provider)).rejects.toSatisfy(code('UNSUPPORTED'));
      return;
    }
    const make = (
      provider.createMasterFromNode as NonNullable<HypervisorProvider['createMasterFromNode']>
    ).bind(provider);
    const before = await listReal();
    const node = await provider.cloneNode(cloneSpec(`${run}-src`));
    made.push(node.id);
    const spec: MasterSpec = { ...masterSpec, id: `${masterSpec.id}-from-node`.slice(0, 63) };
    // Master names as core makes them (providers check them against the spec).
    const request = () => ({
      masterName: newMasterName(spec, masterSpecHash(spec)),
      spec,
      seal: false,
    });
    await expect(make(`${run}-no-such-node`, request())).rejects.toSatisfy(code('NOT_FOUND'));
    const aborted = new AbortController();
    aborted.abort(new VmkitError('ABORTED', 'contract abort'));
    await expect(make(node.id, request(), { signal: aborted.signal })).rejects.toSatisfy(code('ABORTED'));
    const check = async (state: 'stopped' | 'running', suffix: string) => {
      const ref = await make(node.id, request());
      masters.push(ref);
      provider.checkMasterRef?.(ref, spec);
      expect(await provider.mastersExist([ref])).toEqual([true]);
      expect((await provider.getNode(node.id))?.status).toBe(state);
      const clone = await provider.cloneNode(
        cloneSpec(`${run}-of-${suffix}`, { imageId: spec.id, master: ref }),
      );
      made.push(clone.id);
      expect(clone.imageId).toBe(spec.id);
      await provider.destroyNode(clone.id);
      await provider.deleteMaster(ref);
      expect(await provider.mastersExist([ref])).toEqual([false]);
    };
    if (caps.stopped) await check('stopped', 'stopped');
    if (caps.running) {
      await provider.startNode(node.id);
      // A running node is quiesced through its agent where it has one: let it come up first.
      if ((await provider.capabilities()).guestAgent)
        await waitForNode(contractGuestParts(provider), node.id, {
          until: 'agent',
          timeoutMs: agentTimeoutMs,
        });
      await check('running', 'running');
    }
    await provider.destroyNode(node.id);
    expect(await listReal()).toEqual(before);
  });
}
