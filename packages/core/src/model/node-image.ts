import type { OperationOptions } from '../util/progress.js';

/** Options of `createImageFromNode`. */
export interface CreateImageFromNodeOptions extends OperationOptions {
  /**
   * The new image's id: the image id rule (`IMAGE_ID_PATTERN`: 1-63 of a-z, 0-9, `.`, `_`, `-`,
   * starting with a letter or a digit, no `..`), and no image of the catalogue may have it yet
   * (`CONFLICT`).
   */
  readonly imageId: string;
  /** The new image's human-readable name (1-200 characters; default: the id). */
  readonly name?: string;
  /**
   * Run the standard guest clean-up (persistent NIC rules and DHCP leases removed; machine-id,
   * SSH host keys and host name reset) on the copy, never on the node (default `true`), so each
   * node cloned from the new image gets an identity of its own. `false` keeps the disk exactly as
   * the node had it.
   */
  readonly seal?: boolean;
}
