/**
 * `@vmkit/core`: the portable compute service, its images (masters built lazily, once) and nodes,
 * and vmkit's errors.
 *
 * Each public name has one entry point. The blob stores that keep master metadata (filesystem,
 * memory, and what a store implements) are in `@vmkit/core/blobstore`; the provider SPI and the
 * helpers providers and stores share in `@vmkit/core/spi`; the in-memory provider (for tests and
 * examples) in `@vmkit/core/testing`, the contract suites (vitest) in `@vmkit/core/contract`;
 * composition with inversify in `@vmkit/core/inversify`. The few names this entry shares with
 * another are listed, with the reason, in `api/re-exports.json`.
 *
 * @packageDocumentation
 */

// The compute service
export type { ComputeService } from './compute/compute-service.js';
export {
  type ComputeServiceOptions,
  DEFAULT_BUILD_CONCURRENCY,
  DEFAULT_CACHE_MAX,
  DEFAULT_CACHE_TTL_MS,
  DEFAULT_CLONE_CONCURRENCY,
  DEFAULT_STORE_ROOT,
} from './compute/compute-service-options.js';
export { createComputeService } from './compute/create-compute-service.js';
export type {
  DiskUsageReport,
  LeftoverDiskUsage,
  MasterDiskUsage,
  NodeDiskUsage,
} from './compute/disk-usage.js';
export type { EphemeralNodesOptions } from './compute/ephemeral-nodes-options.js';
export type { KeptItem, PruneImagesOptions, PrunedItem, PruneResult } from './compute/prune-images.js';
export type { ReapNodesOptions, ReapResult } from './compute/reap-nodes.js';
export type { TemplateBuilder } from './compute/template-builder.js';
export {
  type BuildLeaseOptions,
  DEFAULT_BUILD_LEASE_RENEW_MS,
  DEFAULT_BUILD_LEASE_TTL_MS,
} from './masters/build-lease-options.js';
export type { RecordSigningOptions } from './masters/record-signing.js';

// What it offers and returns
export type {
  ConfigDriveFile,
  ConfigDriveFilesystem,
  ConfigDriveFormat,
  ConfigDriveSpec,
} from './model/config-drive-spec.js';
export { DATA_VOLUME_MAX_COUNT, DATA_VOLUME_MAX_MIB, type DataVolumeSpec } from './model/data-volume-spec.js';
export {
  DEFAULT_HARDWARE_PROFILES,
  type Firmware,
  type Hardware,
  type MasterHardware,
} from './model/hardware.js';
export type { Image, ImageStatus } from './model/image.js';
export { SHARED_FOLDER_MAX_COUNT, type SharedFolder } from './model/shared-folder.js';
export { type CredentialsOption, defaultCredentialsDirectory } from './credentials/credential-options.js';
export {
  type ExclusiveCredentialStore,
  type FileCredentialStoreOptions,
  fileCredentialStore,
} from './credentials/file-credential-store.js';
export type { CredentialStore } from './model/credential-store.js';
export type {
  CopyDestination,
  CopyFromNodeOptions,
  CopyResult,
  CopySource,
  CopyToNodeOptions,
  GuestTransportKind,
  NodeReadiness,
  NodeScript,
  NodeScriptResult,
  RunScriptOnNodesOptions,
  RunScriptOptions,
  ScriptInput,
  ScriptResult,
  WaitForNodeOptions,
} from './model/guest-exec.js';
export type { BoxSourceReader, ReadBoxSource } from './model/box-source-reader.js';
export type { LoginCredentials } from './model/login-credentials.js';
export type { NicAddresses, NicAddressSource } from './model/nic-addresses.js';
export type {
  BootIsoSource,
  BoxSource,
  DiskSource,
  IsoSource,
  KernelSource,
  MasterSource,
  MasterSpec,
  PostInstallStep,
} from './model/master-spec.js';
export type {
  InstallFinished,
  UnattendedAnswers,
  UnattendedDelivery,
  UnattendedFileRef,
} from './model/unattended.js';
export {
  type BoundNetwork,
  type BoundNic,
  type BoundPortForward,
  DEFAULT_NETWORK,
  type NetworkSpec,
  NIC_ATTACHMENTS,
  type NicAttachment,
  type NicIpSpec,
  type NicSpec,
  type PortForward,
  type StaticAddress,
} from './model/network-spec.js';
export type { CreateImageFromNodeOptions } from './model/node-image.js';
export type { NodeMetadata, NodeStatus } from './model/node-metadata.js';
export type { CreateNodesOptions } from './model/create-nodes-options.js';
export type { WarmReadiness, WarmSpec } from './model/warm-spec.js';
export { type NodeSnapshot, SNAPSHOT_NAME_PATTERN, type SnapshotNodeOptions } from './model/node-snapshot.js';
export type { OperatingSystem } from './model/operating-system.js';
export type { ConfigDriveOptions, Template, TemplateOptions } from './model/template.js';
export type { PortAllocatorOptions } from './ports/port-allocator.js';

// Errors
export { type NodeFailure, RunNodesError } from './errors/run-nodes-error.js';
export { RunScriptError } from './errors/run-script-error.js';
export { isNoSpaceError } from './spi/free-space.js';
export {
  isClosedError,
  VmkitError,
  type VmkitErrorCode,
  type VmkitErrorFault,
  type VmkitErrorJson,
  type VmkitErrorOptions,
} from './errors/vmkit-error.js';

// Provider SPI types that the compute service's own signatures use (their home: `@vmkit/core/spi`)
export type { HostNetwork, HypervisorProvider } from './spi/hypervisor-provider.js';
export type { DiskBytes, ProviderArtefact } from './spi/provider-artefacts.js';
export type { MasterDiskExport } from './spi/master-export.js';

// Logging and progress
export { type LogFields, type Logger, silentLogger } from './util/logger.js';
export type { OperationOptions, ProgressEvent, ProgressListener, ProgressPhase } from './util/progress.js';
