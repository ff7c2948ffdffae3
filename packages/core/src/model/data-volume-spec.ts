/** Largest data volume: 1 TiB (raw volumes are sparse, so only what is written takes space). */
export const DATA_VOLUME_MAX_MIB = 1024 * 1024;

/** Most data volumes one node can have. */
export const DATA_VOLUME_MAX_COUNT = 8;

/**
 * An extra disk a node gets from its template, besides its boot disk: created with the node,
 * removed with it, rolled back when the node fails. The guest sees it as one more disk (a virtio
 * disk on libvirt); with `filesystem: 'vfat'` it is formatted and holds `files`, and the guest can
 * find it by `label`.
 */
export interface DataVolumeSpec {
  /** Size in MiB, 1 to {@link DATA_VOLUME_MAX_MIB}. */
  readonly sizeMiB: number;
  /** Disk format (only `raw` today, the default). */
  readonly format?: 'raw';
  /** Format the volume with this file system (default: none, all zeroes). */
  readonly filesystem?: 'vfat';
  /** Volume label (with `filesystem`): 1-11 printable ASCII characters, as FAT allows. */
  readonly label?: string;
  /** Files to put on the file system (with `filesystem`): relative `/`-separated path to content (text is UTF-8). */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** Bytes at offset 0 of a volume without `filesystem` (text is UTF-8), the rest zeroes; at most the volume's size. */
  readonly content?: string | Uint8Array;
}
