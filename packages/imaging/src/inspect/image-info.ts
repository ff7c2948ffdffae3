/** Formats {@link inspectImage} recognises (`raw` when none matched). */
export type ImageFormat = 'raw' | 'qcow2' | 'vmdk' | 'vhd' | 'vhdx' | 'vdi' | 'qed' | 'iso' | 'gpt' | 'luks';

/** What {@link inspectImage} found in an image's headers. */
export interface ImageInfo {
  /** The format found (`raw` when no header matched). */
  readonly format: ImageFormat;
  /** Size of the disk the image holds, in bytes (what a guest sees). */
  readonly virtualSize: number;
  /** Size of the image file itself, in bytes. */
  readonly fileSize: number;
  /**
   * Why the image is unsafe or unreadable, each as `rule: explanation` (the rule ids are those of
   * {@link ImageRule}); empty when the headers raise no concern.
   */
  readonly issues: readonly string[];
  /** Format-specific facts (cluster size, subformat, extents, backing file name, ...). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Bytes read from the image to inspect it (headers and descriptors only). */
  readonly bytesRead: number;
}

/**
 * Ids of the rules an image can break. Those found in the headers appear in
 * {@link ImageInfo.issues}; `format-not-allowed`, `format-mismatch` and `virtual-size-limit` are
 * checked by {@link assertSafeImage} against the caller's options.
 */
export type ImageRule =
  | 'truncated'
  | 'malformed'
  | 'read-budget'
  | 'multiple-formats'
  | 'qcow2-backing-file'
  | 'qcow2-data-file'
  | 'qcow2-unknown-features'
  | 'qed'
  | 'vmdk-create-type'
  | 'vmdk-extent-path'
  | 'vmdk-descriptor-bounds'
  | 'vmdk-parent'
  | 'vhd-differencing'
  | 'vhdx-parent'
  | 'vdi-differencing'
  | 'format-not-allowed'
  | 'format-mismatch'
  | 'virtual-size-limit';

/** Options of {@link inspectImage}. */
export interface InspectImageOptions {
  /** Abandons the inspection between reads. */
  readonly signal?: AbortSignal;
  /** Most bytes the inspection may read (default 1 MiB); needing more is a `read-budget` issue. */
  readonly maxReadBytes?: number;
}
