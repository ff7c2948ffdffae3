import type { ServiceIdentifier } from 'inversify';
import type { BlobStore } from '../blobstore/blob-store.js';
import type { ComputeService } from '../compute/compute-service.js';
import type { ResolvedComputeServiceOptions } from '../compute/compute-service-options.js';
import type { NodeLauncher } from '../compute/node-launcher.js';
import type { MasterCache } from '../masters/master-cache.js';
import type { MasterRepository } from '../masters/master-repository.js';
import type { PortAllocator } from '../ports/port-allocator.js';
import type { HypervisorProvider } from '../spi/hypervisor-provider.js';
import type { Logger } from '../util/logger.js';

/** Service identifiers of vmkit's parts in an inversify container. */
export const VMKIT_TYPES = Object.freeze({
  Options: Symbol.for('vmkit.Options') as ServiceIdentifier<ResolvedComputeServiceOptions>,
  Provider: Symbol.for('vmkit.Provider') as ServiceIdentifier<HypervisorProvider>,
  BlobStore: Symbol.for('vmkit.BlobStore') as ServiceIdentifier<BlobStore>,
  Logger: Symbol.for('vmkit.Logger') as ServiceIdentifier<Logger>,
  MasterRepository: Symbol.for('vmkit.MasterRepository') as ServiceIdentifier<MasterRepository>,
  MasterCache: Symbol.for('vmkit.MasterCache') as ServiceIdentifier<MasterCache>,
  PortAllocator: Symbol.for('vmkit.PortAllocator') as ServiceIdentifier<PortAllocator>,
  NodeLauncher: Symbol.for('vmkit.NodeLauncher') as ServiceIdentifier<NodeLauncher>,
  ComputeService: Symbol.for('vmkit.ComputeService') as ServiceIdentifier<ComputeService>,
});
