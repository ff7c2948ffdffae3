/**
 * `@vmkit/core/contract`: the contract suites (vitest) that every provider and blob store passes.
 * Call them from a test file; they register vitest suites, so this entry needs `vitest` (an
 * optional peer dependency). The in-memory provider, which programs also use at run time, is in
 * `@vmkit/core/testing` and loads without vitest.
 *
 * @packageDocumentation
 */

export {
  type BlobStoreContractOptions,
  type BlobStoreContractSubject,
  describeBlobStoreContract,
} from './describe-blob-store-contract.js';
export { describeProviderContract, type ProviderContractSubject } from './describe-provider-contract.js';
export { GUEST_INTERFACES_SCRIPT, parseGuestInterfaces } from './guest-exec-contract.js';
export type { SharedFolderSeen } from './shared-folder-contract.js';
