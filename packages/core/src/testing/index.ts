/**
 * `@vmkit/core/testing`: an in-memory hypervisor for callers' own tests, and the contract suites
 * (vitest) that every provider and blob store passes.
 *
 * @packageDocumentation
 */

export {
  type BlobStoreContractOptions,
  type BlobStoreContractSubject,
  describeBlobStoreContract,
} from './describe-blob-store-contract.js';
export { describeProviderContract, type ProviderContractSubject } from './describe-provider-contract.js';
export {
  type MemoryProvider,
  type MemoryProviderFaults,
  type MemoryProviderOptions,
  type MemoryProviderStats,
  memoryProvider,
} from './memory-provider.js';
export { MEMORY_DISK_BYTES } from './memory-housekeeping.js';
export { MEMORY_EXPORT_BYTES, memoryMasterDisk } from './memory-master-export.js';
export type { MemoryMaster, MemoryProviderData } from './memory-provider-state.js';
