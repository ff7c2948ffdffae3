// A running node on a fresh simulator (or VMKIT_VBOX_URL), for the tests that reach inside guests.
import type { CloneSpec, MasterRef } from '@vmkit/core/spi';
import { runMasterBuild } from '@vmkit/core/spi';
import type { VirtualBoxProvider } from '../src/index.js';
import type { VboxSimulatorOptions } from '../src/testing/index.js';
import { isoMasterSpec, testProvider, type VboxTestEnv, vboxTestEnv } from './vbox-env.js';

/** A NAT NIC at slot 0 with this MAC. */
export function natNic(mac: string): CloneSpec['network']['nics'][number] {
  return { slot: 0, attachment: 'nat', mac, portForwards: [] };
}

/** The clone spec of a node `name` of `master` with these NICs. */
export function nodeSpec(master: MasterRef, name: string, nics: CloneSpec['network']['nics']): CloneSpec {
  return {
    name,
    group: 'guest',
    imageId: master.id,
    master,
    hardware: { id: 'micro', cores: 1, ramMiB: 256, diskGiB: 1 },
    network: { nics },
    linked: true,
    tags: [],
    userMetadata: {},
  };
}

/** An environment with a master and one running node of it. */
export interface RunningNode {
  readonly env: VboxTestEnv;
  readonly provider: VirtualBoxProvider;
  readonly master: MasterRef;
  /** The running node's id. */
  readonly node: string;
  /** Destroys the node and the master, closes the provider and the environment. */
  close(): Promise<void>;
}

/** Builds a master `name` and starts one node of it with `nics`, on a simulator made with `sim`. */
export async function runningNode(
  name: string,
  nics: CloneSpec['network']['nics'],
  sim: VboxSimulatorOptions = {},
): Promise<RunningNode> {
  const env = await vboxTestEnv(sim);
  const provider = testProvider(env);
  const master = await runMasterBuild(provider, await isoMasterSpec(env, name), name);
  const node = (await provider.cloneNode(nodeSpec(master, name, nics))).id;
  await provider.startNode(node);
  return {
    env,
    provider,
    master,
    node,
    async close() {
      await provider.destroyNode(node).catch(() => {});
      await provider.deleteMaster(master).catch(() => {});
      await provider.close();
      await env.close();
    },
  };
}
