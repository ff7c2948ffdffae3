import type { BuildLeases } from '../masters/build-lease.js';
import type { LeaseRecord } from '../masters/lease-record.js';
import type { MasterRepository } from '../masters/master-repository.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { ProviderArtefact } from '../spi/provider-artefacts.js';
import type { Logger } from '../util/logger.js';
import { classifyArtefacts, imageOfMasterName } from './build-liveness.js';

/** What removing a dead builder's artefacts needs. */
export interface DeadBuildParts {
  readonly provider: HypervisorProvider;
  readonly repository: Pick<MasterRepository, 'get'>;
  /** The leases the lease was taken over in: its live leases own what they name. */
  readonly leases: Pick<BuildLeases, 'live' | 'holder'>;
  readonly logger: Logger;
}

/**
 * Removes the artefacts of the build whose lease this process just took over (its holder died,
 * e.g. `kill -9`, or gave up), so they do not wait for the next start-up or `pruneImages`.
 *
 * The lapsed record is untrusted: it is acted on only when it is for `imageId` and names a master
 * name core would have chosen for that image, and only the artefacts the provider lists as vmkit's
 * (its name prefix, its naming or metadata) that carry exactly that master name are considered.
 * Of those, what the one liveness rule (`classifyArtefacts`) finds owned stays: in use, named by a
 * record, or named by a live lease. A record of this process's own holder is skipped (its build
 * rolls itself back). Failures are logged, never thrown: the build goes on and prune retries.
 *
 * @returns the provider names of the artefacts removed.
 */
export async function removeDeadBuild(
  parts: DeadBuildParts,
  lapsed: LeaseRecord,
  imageId: string,
): Promise<string[]> {
  const { provider, logger } = parts;
  if (!provider.listArtefacts || !provider.removeArtefact) return [];
  if (lapsed.imageId !== imageId || imageOfMasterName(lapsed.masterName) !== imageId) return [];
  if (lapsed.holder.id === parts.leases.holder.id) return [];
  try {
    const listed = (await provider.listArtefacts()).filter(
      (a) => a.masterName === lapsed.masterName && (a.imageId === undefined || a.imageId === imageId),
    );
    if (listed.length === 0) return [];
    const { leftovers } = await classifyArtefacts(parts, listed);
    const removed = await removeArtefacts(provider, leftovers, logger);
    const { hostname, pid } = lapsed.holder;
    logger.info('removed what the build whose lease was taken over left', {
      imageId,
      masterName: lapsed.masterName,
      holder: `${hostname} pid ${pid}`,
      artefacts: removed.length,
    });
    return removed;
  } catch (error) {
    logger.warn('could not remove what the build whose lease was taken over left; prune will retry', {
      imageId,
      masterName: lapsed.masterName,
      error: String(error),
    });
    return [];
  }
}

/**
 * Removes artefacts one by one through the provider; one that cannot be removed is logged and the
 * rest go on (`pruneImages` retries). Returns the provider names removed (none from a provider
 * without `removeArtefact`).
 */
export async function removeArtefacts(
  provider: HypervisorProvider,
  artefacts: readonly ProviderArtefact[],
  logger: Logger,
): Promise<string[]> {
  const removed: string[] = [];
  if (!provider.removeArtefact) return removed;
  for (const artefact of artefacts) {
    try {
      await provider.removeArtefact(artefact);
      removed.push(artefact.id);
    } catch (error) {
      logger.warn('could not remove an artefact of a crashed build; prune will retry', {
        artefact: artefact.id,
        error: String(error),
      });
    }
  }
  return removed;
}
