/**
 * `@vmkit/core/internal`: parts that vmkit's own packages, benchmarks and tests share. Not a
 * public API: anything here may change in any release.
 *
 * @internal
 * @packageDocumentation
 */

export { moveBlobAside } from '../blobstore/move-aside.js';
export { leaseOwner, nodeMetadataOf } from '../compute/node-view.js';
export { VmkitComputeService } from '../compute/vmkit-compute-service.js';
export { composeComputeService } from '../container/compose-compute-service.js';
export { NodeCredentials } from '../credentials/node-credentials.js';
export { AgentRunDirs, RunDirKeeper } from '../guest/agent-run-dir.js';
export { AgentTransport, type AgentTransportOptions } from '../guest/agent-transport.js';
export type {
  GuestTransport,
  NodeCredentialSource,
  SshTransportFactory,
  TransportCopyInOptions,
} from '../guest/guest-transport.js';
export { type SshTransportFactoryOptions, sshTransportFactory } from '../guest/ssh/ssh-transport-factory.js';
export { BuildLeases, type LeaseRequest } from '../masters/build-lease.js';
export { buildLeaseKey } from '../masters/build-lease-options.js';
export { HeldLease } from '../masters/held-lease.js';
export type { LeaseHolder, LeaseRecord } from '../masters/lease-record.js';
export { MasterCache } from '../masters/master-cache.js';
export { MASTER_RECORD_SCHEMA_VERSION, type MasterRecord, masterBlobName } from '../masters/master-record.js';
export { MasterRepository, providerNamespace } from '../masters/master-repository.js';
export { MasterSnapshot } from '../masters/master-snapshot.js';
export { cloudInitNetworkConfig, openstackNetworkData } from '../network/network-documents.js';
export { type AddressLease, PortAllocator } from '../ports/port-allocator.js';
export { canBind, probeBind } from '../ports/port-probe.js';
export { canonicalJson, specHash } from '../util/canonical-json.js';
export {
  checkPrivateDir,
  ensurePrivateDir,
  type PrivateDirOptions,
  userCacheHome,
} from '../util/private-dir.js';
export {
  createPrivateFile,
  openPrivateFile,
  type PrivateFileName,
  writeNewPrivateFile,
} from '../util/private-file.js';
export { Semaphore } from '../util/semaphore.js';
export { SingleFlight } from '../util/single-flight.js';
export { loadValidators } from '../validation/load-validators.js';
export { GROUP_PATTERN, IMAGE_ID_PATTERN, NODE_NAME_PATTERN } from '../validation/patterns.js';
