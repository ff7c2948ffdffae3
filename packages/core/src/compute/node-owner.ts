import { randomBytes } from 'node:crypto';
import type { BuildLeases } from '../masters/build-lease.js';
import type { HeldLease } from '../masters/held-lease.js';
import type { Logger } from '../util/logger.js';

/** The tag that marks a node ephemeral and names its owner: `vmkit:owner=<16 hex>`. */
export const OWNER_TAG_PREFIX = 'vmkit:owner=';

const OWNER_ID = /^[0-9a-f]{16}$/;

/** The mark an ephemeral node of owner `id` carries among its tags. */
export function ownerTag(id: string): string {
  return `${OWNER_TAG_PREFIX}${id}`;
}

/**
 * The owner an ephemeral node's own mark names (stored with the node on the hypervisor), or
 * `undefined` for a node that is not ephemeral: no mark, a malformed one, or more than one.
 */
export function ownerOfNode(node: { readonly tags: readonly string[] }): string | undefined {
  const marks = node.tags.filter((t) => t.startsWith(OWNER_TAG_PREFIX));
  const id = marks.length === 1 ? (marks[0] as string).slice(OWNER_TAG_PREFIX.length) : undefined;
  return id !== undefined && OWNER_ID.test(id) ? id : undefined;
}

/**
 * The owner of a compute service's ephemeral nodes: an owner lease in the store, taken on first
 * use through the build lease machinery (in its own container, keyed by a random owner id) and
 * renewed as build leases are while the service lives. Other processes read only whether an
 * owner's lease is live; which nodes are whose, they read from the nodes' own marks.
 */
export class NodeOwner {
  readonly #leases: BuildLeases;
  readonly #logger: Logger;
  readonly #ids = new Set<string>();
  #held: HeldLease | undefined;
  #taking: Promise<HeldLease> | undefined;

  constructor(leases: BuildLeases, logger: Logger) {
    this.#leases = leases;
    this.#logger = logger;
  }

  /** Creates the lease container if missing. */
  async init(): Promise<void> {
    await this.#leases.init();
  }

  /**
   * This service's owner id, taking its lease on first use. A lease that was lost (it could not be
   * renewed in time) is replaced by a new one under a new id: nodes marked with the old id may be
   * reaped by other processes from then on.
   */
  async id(): Promise<string> {
    const held = this.#held;
    if (held && !held.lost.aborted) return held.record.imageId;
    this.#taking ??= this.#take().finally(() => {
      this.#taking = undefined;
    });
    return (await this.#taking).record.imageId;
  }

  /** Whether `id` is an owner id this service has held (its nodes are never reaped by it). */
  owns(id: string): boolean {
    return this.#ids.has(id);
  }

  /** The owner ids whose lease is live now, as the store says. */
  async liveOwners(): Promise<Set<string>> {
    return new Set((await this.#leases.live()).map((record) => record.imageId));
  }

  /** Removes lapsed owner leases from the store (their owners are dead); best effort. */
  async removeStale(): Promise<void> {
    await this.#leases.removeStale().catch((error: unknown) => {
      this.#logger.warn('could not remove lapsed owner leases', { error: String(error) });
    });
  }

  /** Stops renewing and removes the lease: this service's ephemeral nodes are orphans from now. */
  async release(): Promise<void> {
    await this.#taking?.catch(() => {});
    const held = this.#held;
    this.#held = undefined;
    await held?.release();
  }

  async #take(): Promise<HeldLease> {
    const id = randomBytes(8).toString('hex');
    // Counted as this service's before the lease exists, so its own reaper never takes it for dead.
    this.#ids.add(id);
    const held = await this.#leases.acquire({
      imageId: id,
      specHash: 'ephemeral-nodes',
      masterName: `ephemeral-nodes-${id}`,
    });
    held.lost.addEventListener(
      'abort',
      () =>
        this.#logger.warn('lost the owner lease of ephemeral nodes; other processes may reap them', {
          owner: id,
        }),
      { once: true },
    );
    this.#held = held;
    return held;
  }
}
