import type { ContainerModuleLoadOptions } from 'inversify';
import type { ResolvedComputeServiceOptions } from '../compute/compute-service-options.js';
import { NodeLauncher } from '../compute/node-launcher.js';
import { VmkitComputeService } from '../compute/vmkit-compute-service.js';
import { MasterCache } from '../masters/master-cache.js';
import { MasterRepository } from '../masters/master-repository.js';
import { PortAllocator } from '../ports/port-allocator.js';
import { VMKIT_TYPES as T } from './tokens.js';

/**
 * Binds every part of a compute service: the composition root shared by `createComputeService`
 * (its own private container) and the `@vmkit/core/inversify` module (the caller's container).
 */
export function bindVmkit(
  bind: ContainerModuleLoadOptions['bind'],
  options: ResolvedComputeServiceOptions,
): void {
  bind(T.Options).toConstantValue(options);
  bind(T.Provider).toConstantValue(options.provider);
  bind(T.BlobStore).toConstantValue(options.store);
  bind(T.Logger).toConstantValue(options.logger);
  bind(T.MasterRepository)
    .toResolvedValue(
      (store, logger) =>
        new MasterRepository(store, {
          container: options.container,
          providerId: options.provider.id,
          logger,
        }),
      [T.BlobStore, T.Logger],
    )
    .inSingletonScope();
  bind(T.MasterCache)
    .toResolvedValue(
      (provider, repository, logger) =>
        new MasterCache(provider, repository, logger, {
          ...options.cache,
          builds: options.concurrency.builds,
        }),
      [T.Provider, T.MasterRepository, T.Logger],
    )
    .inSingletonScope();
  bind(T.PortAllocator)
    .toResolvedValue(() => new PortAllocator(options.ports))
    .inSingletonScope();
  bind(T.NodeLauncher)
    .toResolvedValue(
      (provider, ports, logger) => new NodeLauncher(provider, ports, logger, options.concurrency.clones),
      [T.Provider, T.PortAllocator, T.Logger],
    )
    .inSingletonScope();
  bind(T.ComputeService)
    .toResolvedValue(
      async (provider, repository, cache, launcher, ports, logger) => {
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
      },
      [T.Provider, T.MasterRepository, T.MasterCache, T.NodeLauncher, T.PortAllocator, T.Logger],
    )
    .inSingletonScope();
}
