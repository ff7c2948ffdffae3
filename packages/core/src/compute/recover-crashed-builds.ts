import type { BuildLeases } from '../masters/build-lease.js';
import type { MasterRepository } from '../masters/master-repository.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { Logger } from '../util/logger.js';
import { classifyArtefacts } from './build-liveness.js';
import { removeArtefacts } from './remove-dead-build.js';

/** What start-up recovery needs. */
export interface RecoveryParts {
  readonly provider: HypervisorProvider;
  readonly repository: Pick<MasterRepository, 'get'>;
  readonly leases: Pick<BuildLeases, 'live' | 'removeStale'>;
  readonly logger: Logger;
  /** Master ids the records loaded at start-up name: owned without reading them again. */
  readonly known?: ReadonlySet<string>;
}

/** What start-up recovery removed. */
export interface RecoveryResult {
  /** Artefacts of dead builds removed (provider names). */
  readonly removed: readonly string[];
  /** Lapsed lease blobs removed. */
  readonly leases: number;
}

/**
 * Start-up crash recovery: removes the artefacts of master builds whose builder died (a process
 * killed mid-build) — those no record and no live build lease owns — and the lapsed leases they
 * held. Providers that cannot list their artefacts are skipped. A failure to remove one artefact
 * is logged and the rest go on; `pruneImages` retries later.
 */
export async function recoverCrashedBuilds(parts: RecoveryParts): Promise<RecoveryResult> {
  const { provider, logger } = parts;
  if (!provider.listArtefacts || !provider.removeArtefact) return { removed: [], leases: 0 };
  const { leftovers } = await classifyArtefacts(parts, await provider.listArtefacts(), parts.known);
  const removed = await removeArtefacts(provider, leftovers, logger);
  const leases = await parts.leases.removeStale();
  if (removed.length > 0 || leases > 0) {
    logger.info('removed what crashed builds left', { artefacts: removed.length, leases });
  }
  return { removed, leases };
}
