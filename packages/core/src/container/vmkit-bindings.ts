import type { ContainerModuleLoadOptions } from 'inversify';
import type { ResolvedComputeServiceOptions } from '../compute/compute-service-options.js';
import { composeComputeService } from './compose-compute-service.js';
import { VMKIT_TYPES as T } from './tokens.js';

/**
 * Binds every part of a compute service in a caller's inversify container. The parts are wired
 * once by {@link composeComputeService} (the same composition `createComputeService` uses); the
 * service is initialised when first resolved with `getAsync`.
 */
export function bindVmkit(
  bind: ContainerModuleLoadOptions['bind'],
  options: ResolvedComputeServiceOptions,
): void {
  let parts: ReturnType<typeof composeComputeService> | undefined;
  const composed = () => (parts ??= composeComputeService(options));
  bind(T.Options).toConstantValue(options);
  bind(T.Provider).toConstantValue(options.provider);
  bind(T.BlobStore).toConstantValue(options.store);
  bind(T.Logger).toConstantValue(options.logger);
  bind(T.MasterRepository)
    .toDynamicValue(() => composed().repository)
    .inSingletonScope();
  bind(T.MasterCache)
    .toDynamicValue(() => composed().cache)
    .inSingletonScope();
  bind(T.PortAllocator)
    .toDynamicValue(() => composed().ports)
    .inSingletonScope();
  bind(T.NodeLauncher)
    .toDynamicValue(() => composed().launcher)
    .inSingletonScope();
  bind(T.ComputeService)
    .toDynamicValue(async () => {
      const { service } = composed();
      await service.init();
      return service;
    })
    .inSingletonScope();
}
