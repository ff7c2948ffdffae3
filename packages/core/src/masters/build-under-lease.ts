import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { Logger } from '../util/logger.js';
import { emitProgress } from '../util/progress.js';
import { type BuildRequest, buildAndRecord, newMasterName } from './build-and-record.js';
import type { BuildLeases } from './build-lease.js';
import type { MasterRecord } from './master-record.js';
import type { MasterRepository } from './master-repository.js';

/**
 * Builds a master once however many processes ask: takes the image's build lease (waiting while
 * another process builds), then re-reads the image's record, which another process may have
 * written meanwhile. A record of the same spec whose master exists is used as it is; otherwise
 * this process builds under the lease. Losing the lease mid-build aborts and rolls back the build.
 */
export async function buildUnderLease(
  provider: HypervisorProvider,
  repository: MasterRepository,
  leases: BuildLeases,
  logger: Logger,
  request: BuildRequest,
): Promise<MasterRecord> {
  const { spec, hash } = request;
  const masterName = newMasterName(spec, hash);
  const lease = await leases.acquire(
    { imageId: spec.id, specHash: hash, masterName },
    { signal: request.signal, onProgress: request.onProgress },
  );
  try {
    const stored = await repository.get(spec.id);
    if (stored?.specHash === hash) {
      const [exists] = await provider.mastersExist([stored.master]);
      if (exists) {
        logger.info('master was built by another process; using it', {
          imageId: spec.id,
          master: stored.master.id,
        });
        emitProgress(request.onProgress, {
          phase: 'build',
          imageId: spec.id,
          message: `using master ${stored.master.id} built by another process`,
          fraction: 1,
        });
        return stored;
      }
    }
    return await buildAndRecord(provider, repository, logger, {
      ...request,
      previous: stored ?? request.previous,
      masterName,
      signal: AbortSignal.any([request.signal, lease.lost]),
    });
  } finally {
    await lease.release();
  }
}
