/**
 * `@vmkit/imaging`: media a node needs at first boot, in pure TypeScript: ISO 9660 (Joliet, Rock
 * Ridge, El Torito, hybrid MBR/GPT) writer and reader, FAT12/16/32 writer and reader, cloud-init /
 * OpenStack / OVF config drives, raw volumes, boot ISO remastering (kernel parameters) and its
 * cache, a disk image format inspector that reads headers only, one disk converter (`qemu-img`),
 * and the fetching of a master's source (path, `file:`, `http(s):`, SHA-256, inspection).
 *
 * @packageDocumentation
 */

// Config drives
export type { ConfigDriveSpec } from '@vmkit/core';
export {
  buildConfigDrive,
  buildConfigDriveToFile,
  configDriveLayout,
} from './config-drive/build-config-drive.js';
export type { ConfigDriveLayout } from './config-drive/config-drive-layout.js';
export {
  type BuildConfigDriveOptions,
  DEFAULT_CONFIG_DRIVE_MAX_BYTES,
  DEFAULT_CONFIG_DRIVE_MAX_FILES,
} from './config-drive/config-drive-options.js';
export { NOCLOUD_LABEL } from './config-drive/nocloud.js';
export { EC2_VERSIONS, OPENSTACK_LABEL, OPENSTACK_VERSIONS } from './config-drive/openstack.js';
export { OVF_ENV_NAMESPACE, OVF_LABEL } from './config-drive/ovf.js';

// What goes on a medium
export {
  fromFile,
  fromStream,
  isMediaSource,
  type MediaContent,
  type MediaEntry,
  type MediaEntryType,
  type MediaSource,
} from './media-entry.js';

// ISO 9660
export type { IsoBootImage, IsoBootOptions, IsoHybridOptions } from './iso9660/boot/iso-boot-options.js';
export type { IsoLevel } from './iso9660/iso-names.js';
export {
  DEFAULT_MEDIA_TIME,
  ISO_MAX_FILE_SIZE,
  type WriteIso9660Options,
} from './iso9660/iso-options.js';
export { type MediaFileResult, writeIso9660, writeIso9660ToFile } from './iso9660/iso-writer.js';
export { type ByteSource, fileSource, memorySource } from './iso9660/read/byte-source.js';
export type { RootExtent, VolumeDescriptorInfo } from './iso9660/read/descriptors.js';
export type { BootCatalog, BootEntry, BootMediaType, BootPlatform } from './iso9660/read/el-torito.js';
export {
  type Iso9660FileInfo,
  type Iso9660Reader,
  type IsoNamespace,
  type ReadIso9660Options,
  readIso9660,
} from './iso9660/read/iso-reader.js';

// Boot ISOs: kernel parameters added, still booting on BIOS and UEFI; a cache of remastered copies
export {
  type BootIsoCache,
  type BootIsoCacheOptions,
  type BootIsoGetOptions,
  type BootIsoLease,
  bootIsoCache,
} from './boot-iso/boot-iso-cache.js';
export {
  PROVIDER_BOOT_ISO_CACHE_BYTES,
  type ProviderBootIsoCache,
  providerBootIsoCache,
} from './boot-iso/provider-boot-iso-cache.js';
export {
  type RemasteredWithAnswers,
  type RemasterWithAnswersOptions,
  remasterWithAnswers,
} from './boot-iso/answered-iso.js';
export { remasterBootIso } from './boot-iso/remaster-boot-iso.js';
export type {
  RemasterBootEntry,
  RemasterBootIsoOptions,
  RemasterResult,
} from './boot-iso/remaster-options.js';

// FAT
export type { FatType } from './fat/fat-geometry.js';
export { FAT_MAX_SIZE, FAT_MIN_SIZE, type WriteFatOptions } from './fat/fat-options.js';
export { FAT_MAX_FILE_SIZE, FAT_MAX_IN_MEMORY, writeFat, writeFatToFile } from './fat/fat-writer.js';
export { type FatFileInfo, type FatReader, type ReadFatOptions, readFat } from './fat/read/fat-reader.js';

// Raw volumes
export { POPULATE_MAX_SIZE, populateVolume } from './volume/populate-volume.js';

// Disk images: what a file really is, and whether it is safe to hand to qemu-img
export {
  type AssertSafeImageOptions,
  assertSafeImage,
  DEFAULT_MAX_VIRTUAL_SIZE,
  formatSatisfies,
  normalizeFormat,
} from './inspect/assert-safe-image.js';
export type { ImageFormat, ImageInfo, ImageRule, InspectImageOptions } from './inspect/image-info.js';
export { DEFAULT_MAX_READ_BYTES, inspectImage } from './inspect/inspect-image.js';

// Disk conversion: one converter (qemu-img, explicit input format, progress, abort, no partial output)
export { type ConvertRequest, type DiskConverter, qemuFormatOf } from './convert/disk-converter.js';
export { parseQemuImgProgress } from './convert/qemu-img-args.js';
export { type QemuImgConverterOptions, qemuImgConverter } from './convert/qemu-img-converter.js';

// Master sources: fetched, checked and inspected the same way on every hypervisor
export {
  type FetchSourceOptions,
  fetchSourceFile,
  type SourceFile,
  type SourceLocation,
} from './source/fetch-source.js';
export {
  type FetchMasterDiskOptions,
  fetchMasterDisk,
  MASTER_DISK_FORMATS,
  type MasterDisk,
  type MasterDiskSource,
} from './source/master-disk.js';

// Initrds: answer files appended as a second cpio archive
export { type AppendToInitrdOptions, appendToInitrd } from './initrd/append-initrd.js';
export { type CpioFile, writeCpioNewc } from './initrd/cpio-newc.js';
export { initrdsOfConfig, isoInitrdPaths } from './initrd/iso-initrds.js';
