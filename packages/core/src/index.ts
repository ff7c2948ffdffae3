/**
 * `@vmkit/core`: the portable compute service, its images (masters built lazily, once) and nodes,
 * the blob stores that persist master metadata, and vmkit's errors.
 *
 * Provider authors import the provider SPI from `@vmkit/core/spi`; store authors the blob-store
 * building blocks from `@vmkit/core/blobstore`; the in-memory provider (for tests and
 * examples) is in `@vmkit/core/testing`, the contract suites (vitest) in `@vmkit/core/contract`;
 * callers who compose with inversify use `@vmkit/core/inversify`.
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
export { DEFAULT_HARDWARE_PROFILES, type Hardware, type MasterHardware } from './model/hardware.js';
export type { Image, ImageStatus } from './model/image.js';
export type { LoginCredentials } from './model/login-credentials.js';
export type {
  BootIsoSource,
  DiskSource,
  IsoSource,
  KernelSource,
  MasterSource,
  MasterSpec,
  PostInstallStep,
} from './model/master-spec.js';
export {
  type BoundNetwork,
  type BoundNic,
  type BoundPortForward,
  DEFAULT_NETWORK,
  type NetworkSpec,
  NIC_ATTACHMENTS,
  type NicAttachment,
  type NicSpec,
  type PortForward,
} from './model/network-spec.js';
export type { NodeMetadata, NodeStatus } from './model/node-metadata.js';
export type { OperatingSystem } from './model/operating-system.js';
export type { ConfigDriveOptions, Template, TemplateOptions } from './model/template.js';
export type { PortAllocatorOptions } from './ports/port-allocator.js';

// Errors
export { type NodeFailure, RunNodesError } from './errors/run-nodes-error.js';
export { isNoSpaceError } from './spi/free-space.js';
export {
  isClosedError,
  VmkitError,
  type VmkitErrorCode,
  type VmkitErrorFault,
  type VmkitErrorJson,
  type VmkitErrorOptions,
} from './errors/vmkit-error.js';

// Blob stores
export type {
  BlobBody,
  BlobListItem,
  BlobStore,
  ListOptions,
  ListPage,
  PutBlobOptions,
  StoredBlob,
} from './blobstore/blob-store.js';
export { listAll } from './blobstore/blob-store.js';
export { type FileSystemBlobStoreOptions, fileSystemBlobStore } from './blobstore/file-system-blob-store.js';
export type { ClosableBlobStore } from './blobstore/guard-blob-store.js';
export { memoryBlobStore } from './blobstore/memory-blob-store.js';

// Providers (implementing one: `@vmkit/core/spi`), logging and progress
export type {
  HostNetwork,
  HypervisorProvider,
  ProviderCapabilities,
  ProviderHost,
} from './spi/hypervisor-provider.js';
export type { DiskBytes, ProviderArtefact, ProviderHousekeeping } from './spi/provider-artefacts.js';
export type { MasterDiskExport, MasterDiskExportOptions, ProviderMasterExport } from './spi/master-export.js';
export type { MasterDiskImport, ProviderMasterImport } from './spi/master-import.js';
export { type LogFields, type Logger, silentLogger } from './util/logger.js';
export type { OperationOptions, ProgressEvent, ProgressListener, ProgressPhase } from './util/progress.js';
