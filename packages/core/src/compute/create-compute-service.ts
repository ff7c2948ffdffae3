import { VMKIT_TYPES } from '../container/tokens.js';
import { bindVmkit } from '../container/vmkit-bindings.js';
import type { ComputeService } from './compute-service.js';
import { type ComputeServiceOptions, resolveComputeServiceOptions } from './compute-service-options.js';

/**
 * Makes a compute service: validates the options (naming any bad one), connects the provider,
 * loads persisted masters from the store (quarantining bad metadata) and checks that they still
 * exist. Close it when done, or use `await using`.
 *
 * @example
 * ```ts
 * const service = await createComputeService({ provider: memoryProvider(), images: [spec] });
 * const nodes = await service.createNodesInGroup('web', 3, { inboundPorts: [80] });
 * ```
 */
export async function createComputeService(options: ComputeServiceOptions): Promise<ComputeService> {
  const resolved = resolveComputeServiceOptions(options);
  // Loaded on first use: importing inversify costs about 250 ms, which the root entry must not pay.
  const { Container } = await import('inversify');
  const container = new Container();
  bindVmkit((id) => container.bind(id), resolved);
  return container.getAsync(VMKIT_TYPES.ComputeService);
}
