import { composeComputeService } from './compose-compute-service.js';
import type { ComputeService } from './compute-service.js';
import { type ComputeServiceOptions, resolveComputeServiceOptions } from './compute-service-options.js';

/**
 * Makes a compute service: validates the options (naming any bad one), connects the provider,
 * loads persisted masters from the store (quarantining bad metadata) and checks that they still
 * exist. Close it when done, or use `await using`. (Callers composing with inversify load
 * `@vmkit/core/inversify` instead; this path does not load inversify.)
 *
 * @example
 * ```ts
 * const service = await createComputeService({ provider: memoryProvider(), images: [spec] });
 * const nodes = await service.createNodesInGroup('web', 3, { inboundPorts: [80] });
 * ```
 */
export async function createComputeService(options: ComputeServiceOptions): Promise<ComputeService> {
  return composeComputeService(resolveComputeServiceOptions(options));
}
