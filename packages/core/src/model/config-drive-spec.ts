/** The on-disk layout of a config drive. */
export type ConfigDriveFormat = 'nocloud' | 'openstack' | 'ovf';

/** The filesystem a config drive is made of. */
export type ConfigDriveFilesystem = 'iso9660' | 'vfat';

/** A file injected into a config drive. */
export interface ConfigDriveFile {
  /** Path inside the guest (OpenStack) or on the drive. */
  readonly path: string;
  /** File content. */
  readonly content: string | Uint8Array;
}

/**
 * What a node's config drive holds. Core fills it per node (instance id, hostname, user data, keys)
 * from the template; the provider turns it into a volume (with `@vmkit/imaging`'s `buildConfigDrive`).
 */
export interface ConfigDriveSpec {
  /** Layout: cloud-init NoCloud (`cidata`), OpenStack config drive (`config-2`) or OVF environment. */
  readonly format: ConfigDriveFormat;
  /** Filesystem (default `iso9660`; OVF is always iso9660). */
  readonly filesystem?: ConfigDriveFilesystem;
  /** The instance id the guest sees. */
  readonly instanceId: string;
  /** The hostname the guest sets. */
  readonly hostname?: string;
  /** User data, opaque bytes. */
  readonly userData?: string | Uint8Array;
  /** Vendor data. */
  readonly vendorData?: string | Uint8Array;
  /** Network configuration (cloud-init v1/v2 YAML or OpenStack network_data JSON). */
  readonly networkConfig?: string | Readonly<Record<string, unknown>>;
  /** Extra meta-data keys. */
  readonly metaData?: Readonly<Record<string, unknown>>;
  /** SSH public keys authorised for the login user. */
  readonly publicKeys?: readonly string[];
  /** Extra files. */
  readonly files?: readonly ConfigDriveFile[];
}
