import type { ConfigDriveSpec } from '../model/config-drive-spec.js';
import type { DataVolumeSpec } from '../model/data-volume-spec.js';
import type { Hardware } from '../model/hardware.js';
import type { BoundNetwork } from '../model/network-spec.js';
import type { BoundSharedFolder } from '../model/shared-folder.js';
import type { MasterRef } from './master-build.js';

/** Everything a provider needs to create one node from a master. */
export interface CloneSpec {
  /** Node name, unique on the provider. */
  readonly name: string;
  /** The node's group. */
  readonly group: string;
  /** The image the master belongs to. */
  readonly imageId: string;
  /** The master to clone. */
  readonly master: MasterRef;
  /** Hardware of the node. */
  readonly hardware: Hardware;
  /** NICs with settled slots, MACs and leased host ports. */
  readonly network: BoundNetwork;
  /** Linked clone (copy-on-write over the master) or a full copy. */
  readonly linked: boolean;
  /** The config drive to build and attach, if any. */
  readonly configDrive?: ConfigDriveSpec;
  /**
   * Extra data volumes, in order, validated by core; created with the node, owned by it (removed
   * by `destroyNode`), removed again when `cloneNode` fails. Only asked of providers whose
   * capabilities say `dataVolumes: true`.
   */
  readonly dataVolumes?: readonly DataVolumeSpec[];
  /**
   * Host directories to share with the node, in order, checked by core (each host path an existing
   * directory when the hypervisor is local); the config drive already mounts them by `tag`. Only
   * asked of providers whose capabilities name a `sharedFolders` type; nothing of them remains
   * after `destroyNode` (libvirt: no virtiofsd process).
   */
  readonly sharedFolders?: readonly BoundSharedFolder[];
  /**
   * Set on the template node of a warm master (booted once, then saved by `saveWarmState`): the
   * provider gives it every device its warm clones need (libvirt: a VM generation id device).
   */
  readonly warmTemplate?: boolean;
  /** Tags to store with the node. */
  readonly tags: readonly string[];
  /** Key/value metadata to store with the node. */
  readonly userMetadata: Readonly<Record<string, string>>;
}
