import { composeComputeService } from '../container/compose-compute-service.js';
import type { OperationOptions } from '../util/progress.js';
import type { ComputeService } from './compute-service.js';
import { type ComputeServiceOptions, resolveComputeServiceOptions } from './compute-service-options.js';

/**
 * Makes a compute service: validates the options (naming any bad one), connects the provider,
 * loads persisted masters from the store (quarantining bad metadata) and checks that they still
 * exist. Close it when done, or use `await using`. `start` receives `load` progress events of
 * this start-up (connecting, loading the catalogue, verifying masters) and can abort it.
 *
 * @example
 * ```ts
 * const service = await createComputeService({ provider: memoryProvider(), images: [spec] });
 * const nodes = await service.createNodesInGroup('web', 3, { inboundPorts: [80] });
 * ```
 */
export async function createComputeService(
  options: ComputeServiceOptions,
  start: OperationOptions = {},
): Promise<ComputeService> {
  const { service } = composeComputeService(resolveComputeServiceOptions(options));
  await service.init(start);
  return service;
}
