/**
 * `@vmkit/core/testing`: an in-memory hypervisor for callers' own tests, examples and programs
 * that need no real VMs. It loads without any test framework; the contract suites (vitest) that
 * every provider and blob store passes are in `@vmkit/core/contract`.
 *
 * @packageDocumentation
 */

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
