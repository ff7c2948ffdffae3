import { invalidArgument, toVmkitError, VmkitError } from '../errors/vmkit-error.js';
import { migrateCatalogue } from '../masters/catalogue-migration.js';
import { loadValidators } from '../validation/load-validators.js';
import { leaseOwner } from './node-view.js';
import type { ComputeServiceParts } from './vmkit-compute-service.js';

/**
 * Starts a compute service's parts: loads the checks, connects the provider, registers the
 * configured images (naming a bad one by its index), opens the metadata store, loads and verifies
 * persisted masters, releases port leases of nodes that are gone and collects superseded masters.
 * On failure the provider is closed again and the error says which part failed.
 */
export async function startComputeService(parts: ComputeServiceParts): Promise<void> {
  const { provider, repository, cache, images, logger, ports } = parts;
  await loadValidators();
  await provider.init?.();
  try {
    for (const [i, spec] of images.entries()) {
      try {
        cache.register(spec);
      } catch (error) {
        if (VmkitError.is(error, 'INVALID_ARGUMENT')) {
          throw invalidArgument(`images[${i}]`, error.message, { cause: error });
        }
        throw error;
      }
    }
    try {
      await repository.init();
    } catch (error) {
      throw toVmkitError(error, 'STORE', `opening the metadata store (container ${repository.container})`);
    }
    await migrateCatalogue(repository, provider, logger);
    const quarantined = await cache.load();
    if (quarantined.length > 0)
      logger.warn('some master metadata was quarantined', { count: quarantined.length });
    const nodes = await provider.listNodes();
    let released = 0;
    for (const id of [provider.id, ...(provider.previousIds ?? [])]) {
      const live = new Set(nodes.map((n) => leaseOwner(id, n.name)));
      released += await ports.reconcile(`${id}/`, live);
    }
    if (released > 0) logger.info('released port leases of nodes that are gone', { released });
    for (const id of cache.withRetired()) await cache.collectRetired(id);
  } catch (error) {
    await provider.close?.().catch(() => {});
    throw toVmkitError(error, 'PROVIDER', 'starting the compute service');
  }
}
