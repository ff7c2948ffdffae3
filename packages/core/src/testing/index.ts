/**
 * `@vmkit/core/testing`: an in-memory hypervisor for callers' own tests, and the contract suites
 * (vitest) that every provider and blob store passes.
 *
 * @packageDocumentation
 */

export * from './describe-blob-store-contract.js';
export * from './describe-provider-contract.js';
export { MEMORY_DISK_BYTES } from './memory-housekeeping.js';
export * from './memory-provider.js';
export type { MemoryMaster, MemoryProviderData } from './memory-provider-state.js';
