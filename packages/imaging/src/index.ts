/**
 * `@vmkit/imaging`: media a node needs at first boot, in pure TypeScript: ISO 9660 (Joliet, Rock
 * Ridge, El Torito, hybrid MBR/GPT) writer and reader, FAT12/16/32 writer, cloud-init / OpenStack /
 * OVF config drives, raw volumes, boot ISO remastering (kernel parameters) and its cache.
 *
 * @packageDocumentation
 */

export type { ConfigDriveSpec } from '@vmkit/core';
export type {
  BootIsoCache,
  BootIsoCacheOptions,
  BootIsoGetOptions,
  BootIsoLease,
} from './boot-iso/boot-iso-cache.js';
export { bootIsoCache } from './boot-iso/boot-iso-cache.js';
export { remasterBootIso } from './boot-iso/remaster-boot-iso.js';
export type {
  RemasterBootEntry,
  RemasterBootIsoOptions,
  RemasterResult,
} from './boot-iso/remaster-options.js';
export * from './config-drive/build-config-drive.js';
export * from './config-drive/config-drive-layout.js';
export * from './config-drive/config-drive-options.js';
export { NOCLOUD_LABEL } from './config-drive/nocloud.js';
export { EC2_VERSIONS, OPENSTACK_LABEL, OPENSTACK_VERSIONS } from './config-drive/openstack.js';
export { OVF_ENV_NAMESPACE, OVF_LABEL } from './config-drive/ovf.js';
export type { FatType } from './fat/fat-geometry.js';
export * from './fat/fat-options.js';
export * from './fat/fat-writer.js';
export * from './fat/read/fat-reader.js';
export type { IsoBootImage, IsoBootOptions, IsoHybridOptions } from './iso9660/boot/iso-boot-options.js';
export type { IsoLevel } from './iso9660/iso-names.js';
export * from './iso9660/iso-options.js';
export * from './iso9660/iso-writer.js';
export type { ByteSource } from './iso9660/read/byte-source.js';
export type { DescriptorSet, RootExtent, VolumeDescriptorInfo } from './iso9660/read/descriptors.js';
export type { BootCatalog, BootEntry, BootMediaType, BootPlatform } from './iso9660/read/el-torito.js';
export * from './iso9660/read/iso-reader.js';
export * from './media-entry.js';
export * from './volume/populate-volume.js';
