import { MasterCache } from '../masters/master-cache.js';
import { MasterRepository } from '../masters/master-repository.js';
import { PortAllocator } from '../ports/port-allocator.js';
import type { ResolvedComputeServiceOptions } from './compute-service-options.js';
import { NodeLauncher } from './node-launcher.js';
import { VmkitComputeService } from './vmkit-compute-service.js';

/**
 * Composes a compute service by hand, with the same parts and wiring as `bindVmkit` (the
 * inversify module): `createComputeService` uses this, so callers who do not use inversify never
 * load it (about 250 ms of start-up on these machines, which a command line cannot afford).
 */
export async function composeComputeService(
  options: ResolvedComputeServiceOptions,
): Promise<VmkitComputeService> {
  const { provider, logger } = options;
  const repository = new MasterRepository(options.store, {
    container: options.container,
    providerId: provider.id,
    logger,
  });
  const cache = new MasterCache(provider, repository, logger, {
    ...options.cache,
    builds: options.concurrency.builds,
  });
  const ports = new PortAllocator(options.ports);
  const launcher = new NodeLauncher(provider, ports, logger, options.concurrency.clones);
  const service = new VmkitComputeService({
    provider,
    repository,
    cache,
    launcher,
    ports,
    logger,
    images: options.images,
    clones: options.concurrency.clones,
  });
  await service.init();
  return service;
}
