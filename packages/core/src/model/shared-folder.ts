/** Most shared folders one node can have. */
export const SHARED_FOLDER_MAX_COUNT = 16;

/**
 * A directory of the hypervisor's host that a node's guest sees at `guestPath`, mounted at every
 * boot by the node's config drive (so the template gets a config drive, and its guest needs
 * cloud-init). libvirt shares it with virtiofs, VirtualBox as a shared folder (`vboxsf`).
 */
export interface SharedFolder {
  /** Absolute path of an existing directory on the hypervisor's host. */
  readonly hostPath: string;
  /** Absolute path in the guest where it is mounted (made when missing); not `/`. */
  readonly guestPath: string;
  /**
   * Mount it read-only in the guest (default `false`). Where the hypervisor cannot refuse writes
   * on the host side (libvirt 9.0 with virtiofs), this is the guest's mount option only: root in
   * the guest could mount the share again read-write. See `docs/shared-folders.md`.
   */
  readonly readOnly?: boolean;
}

/**
 * The file system a provider's shared folders mount as in the guest (`mount -t <type>`):
 * `virtiofs` (libvirt, Linux 5.4 and later) or `vboxsf` (VirtualBox, needs the Guest Additions).
 */
export type SharedFolderType = 'virtiofs' | 'vboxsf';

/** A shared folder as core hands it to a provider: checked, with the tag the guest mounts it by. */
export interface BoundSharedFolder {
  /** The mount tag (virtiofs) or share name (VirtualBox): `vmkit0`, `vmkit1`, … in template order. */
  readonly tag: string;
  /** Absolute, normalised path of a directory on the hypervisor's host. */
  readonly hostPath: string;
  /** Absolute, normalised path in the guest. */
  readonly guestPath: string;
  /** Mounted read-only in the guest (and refused on the host where the hypervisor can). */
  readonly readOnly: boolean;
}
