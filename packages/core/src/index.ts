/**
 * `@vmkit/core`: the portable compute service, its master image cache, the blob stores that
 * persist master metadata, and the provider SPI that hypervisors implement.
 *
 * @packageDocumentation
 */

export * from './blobstore/blob-names.js';
export * from './blobstore/blob-store.js';
export * from './blobstore/file-system-blob-store.js';
export * from './blobstore/memory-blob-store.js';
export type * from './compute/compute-service.js';
export * from './compute/compute-service-options.js';
export * from './compute/config-drive-request.js';
export * from './compute/create-compute-service.js';
export type * from './compute/disk-usage.js';
export * from './compute/network-binding.js';
export * from './compute/node-launcher.js';
export * from './compute/node-names.js';
export * from './compute/node-view.js';
export type * from './compute/prune-images.js';
export * from './compute/template-builder.js';
export * from './compute/vmkit-compute-service.js';
export { VMKIT_TYPES } from './container/tokens.js';
export * from './errors/run-nodes-error.js';
export * from './errors/vmkit-error.js';
export * from './masters/image-view.js';
export * from './masters/master-build-pipeline.js';
export * from './masters/master-cache.js';
export * from './masters/master-record.js';
export * from './masters/master-repository.js';
export * from './masters/master-snapshot.js';
export type * from './model/config-drive-spec.js';
export * from './model/hardware.js';
export type * from './model/image.js';
export type * from './model/login-credentials.js';
export type * from './model/master-spec.js';
export * from './model/network-spec.js';
export type * from './model/node-metadata.js';
export type * from './model/operating-system.js';
export type * from './model/template.js';
export * from './ports/port-allocator.js';
export * from './ports/port-probe.js';
export type * from './spi/clone-spec.js';
export type * from './spi/hypervisor-provider.js';
export * from './spi/master-build.js';
export type * from './spi/provider-artefacts.js';
export * from './util/abort.js';
export * from './util/canonical-json.js';
export * from './util/concurrency.js';
export * from './util/logger.js';
export * from './util/progress.js';
export * from './util/semaphore.js';
export * from './util/single-flight.js';
export * from './validation/master-spec-schema.js';
export * from './validation/network-schema.js';
export * from './validation/parse.js';
export * from './validation/template-options-schema.js';
