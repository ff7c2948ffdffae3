/**
 * `@vmkit/core/inversify`: vmkit's parts as an inversify `ContainerModule`, for callers whose
 * application already composes itself with inversify. Others use `createComputeService`.
 *
 * @example
 * ```ts
 * const container = new Container();
 * await container.load(vmkitContainerModule({ provider }));
 * const service = await container.getAsync(VMKIT_TYPES.ComputeService);
 * ```
 *
 * @packageDocumentation
 */
import { ContainerModule } from 'inversify';
import {
  type ComputeServiceOptions,
  resolveComputeServiceOptions,
} from '../compute/compute-service-options.js';
import { bindVmkit } from '../container/vmkit-bindings.js';

export { VMKIT_TYPES } from '../container/tokens.js';

/** A `ContainerModule` binding every vmkit part; resolve `VMKIT_TYPES.ComputeService` with `getAsync`. */
export function vmkitContainerModule(options: ComputeServiceOptions): ContainerModule {
  const resolved = resolveComputeServiceOptions(options);
  return new ContainerModule(({ bind }) => bindVmkit(bind, resolved));
}
