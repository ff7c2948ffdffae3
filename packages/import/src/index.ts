/**
 * `@vmkit/import`: AWS-style import and export of disk images (ImportImage, ImportVolume,
 * ImportInstance, DescribeConversionTasks, CancelConversionTask, ExportImage) on the imaging
 * package's inspector and `qemu-img`, with bounded concurrency, a scratch quota, checksums, OVA
 * archives and Vagrant boxes (in and out), and task records persisted in a blob store.
 *
 * @packageDocumentation
 */

export type { BoxProvider } from './box/box-metadata.js';
export { VAGRANT_INSECURE_PUBLIC_KEY } from './box/vagrant-login.js';
export { type VagrantBoxReaderOptions, vagrantBoxReader } from './box/vagrant-box-reader.js';
export { createImportService, type ImportService } from './import-service.js';
export type {
  ImageRegistry,
  ImportLimits,
  ImportServiceOptions,
  ResolvedImportOptions,
} from './import-service-options.js';
export { resolveImportOptions } from './import-service-options.js';
export { type OvfDescriptor, type OvfDisk, parseOvf } from './ova/ovf-descriptor.js';
export type {
  AnyTask,
  BootSignal,
  BootValidation,
  ConversionTask,
  DiskContainer,
  DiskLocation,
  ExportFormat,
  ExportImageRequest,
  ExportImageTask,
  ImportBootMode,
  ImageStore,
  ImportedHardware,
  ImportImageRequest,
  ImportImageTask,
  ImportInstanceRequest,
  ImportVolumeRequest,
  SnapshotDetail,
  TaskStage,
  TaskStatus,
  TaskViewBase,
} from './task-model.js';
export type { DiskBlob, ImageRecord } from './task-record.js';
