import type { ConfigDriveFile, ConfigDriveFilesystem, ConfigDriveFormat } from './config-drive-spec.js';
import type { DataVolumeSpec } from './data-volume-spec.js';
import type { Hardware } from './hardware.js';
import type { Image } from './image.js';
import type { NetworkSpec } from './network-spec.js';
import type { SharedFolder } from './shared-folder.js';

/** Config drive choices in a template; instance id and hostname are filled per node. */
export interface ConfigDriveOptions {
  /** Layout (default `nocloud`). */
  readonly format?: ConfigDriveFormat;
  /** Filesystem (default `iso9660`). */
  readonly filesystem?: ConfigDriveFilesystem;
  /**
   * Vendor data (cloud-init merges it under the user data). Default: `manage_etc_hosts: localhost`,
   * so the node's hostname resolves in the guest (sudo complains on every run otherwise).
   */
  readonly vendorData?: string;
  /** Network configuration handed to the guest. */
  readonly networkConfig?: string | Readonly<Record<string, unknown>>;
  /** Extra meta-data keys. */
  readonly metaData?: Readonly<Record<string, unknown>>;
  /** Extra files. */
  readonly files?: readonly ConfigDriveFile[];
}

/** Per-node choices made when creating nodes. */
export interface TemplateOptions {
  /** NICs and port forwards (default: the image's network, else one NAT NIC). */
  readonly network?: NetworkSpec;
  /** Guest TCP ports to reach from the host: each adds an `'auto'` forward on the first NAT NIC. */
  readonly inboundPorts?: readonly number[];
  /** Attach a config drive: `true` for NoCloud on iso9660, or the choices. Implied by `userData` and `authorizePublicKey`. */
  readonly configDrive?: boolean | ConfigDriveOptions;
  /** User data for the guest (cloud-init or any opaque text). */
  readonly userData?: string;
  /** An SSH public key to authorise for the login user. */
  readonly authorizePublicKey?: string;
  /** The login user of the nodes (default: the image's). */
  readonly loginUser?: string;
  /** Tags set on every node (those starting with `vmkit:` are vmkit's own marks and refused). */
  readonly tags?: readonly string[];
  /** Key/value metadata set on every node. */
  readonly userMetadata?: Readonly<Record<string, string>>;
  /** Names for the nodes, in order; the rest are generated (`group-xxxx`). */
  readonly nodeNames?: readonly string[];
  /** Linked clone (default) or full copy of the master's disk. */
  readonly linkedClone?: boolean;
  /** Hardware overrides for the nodes. */
  readonly hardware?: Partial<Omit<Hardware, 'id' | 'name'>>;
  /**
   * Tie the nodes to this compute service (default `false`): they carry an owner mark (the tag
   * `vmkit:owner=<id>`) and live while the service's owner lease in the store is renewed. Once
   * the owner is gone (its process died or closed), the next start, `pruneImages` or `reapNodes`
   * of any process on the store removes them. See `docs/ephemeral-nodes.md`.
   */
  readonly ephemeral?: boolean;
  /** Extra raw data volumes each node gets (see `docs/node-operations.md`); `UNSUPPORTED` where the provider has none. */
  readonly dataVolumes?: readonly DataVolumeSpec[];
  /**
   * Host directories each node sees (see `docs/shared-folders.md`): checked before anything is
   * made (each `hostPath` an existing directory), mounted at every boot by the node's config drive
   * (implied; `configDrive: false` is refused). `UNSUPPORTED` where the provider has none.
   */
  readonly sharedFolders?: readonly SharedFolder[];
}

/** What `createNodesInGroup` creates: an image, a hardware profile and the per-node options. */
export interface Template {
  /** The image to clone. */
  readonly image: Image;
  /** The hardware each node gets. */
  readonly hardware: Hardware;
  /** Per-node choices. */
  readonly options: TemplateOptions;
}
