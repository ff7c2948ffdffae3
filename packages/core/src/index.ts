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
export * from './errors/run-nodes-error.js';
export * from './errors/vmkit-error.js';
export type * from './model/config-drive-spec.js';
export * from './model/hardware.js';
export type * from './model/image.js';
export type * from './model/login-credentials.js';
export type * from './model/master-spec.js';
export * from './model/network-spec.js';
export type * from './model/node-metadata.js';
export type * from './model/operating-system.js';
export type * from './model/template.js';
export type * from './spi/clone-spec.js';
export type * from './spi/hypervisor-provider.js';
export * from './spi/master-build.js';
export * from './util/abort.js';
export * from './util/canonical-json.js';
export * from './util/concurrency.js';
export * from './util/logger.js';
export * from './util/progress.js';
