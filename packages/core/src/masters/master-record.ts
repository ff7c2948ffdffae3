import type { MasterSpec } from '../model/master-spec.js';
import type { MasterRef } from '../spi/master-build.js';

/** The version of the persisted master metadata this code writes and reads. */
export const MASTER_RECORD_SCHEMA_VERSION = 1;

/** The JSON metadata persisted for each built master, one blob per master. */
export interface MasterRecord {
  /** Always {@link MASTER_RECORD_SCHEMA_VERSION}. */
  readonly schemaVersion: 1;
  /** The image id. */
  readonly imageId: string;
  /** Hash of the canonical spec it was built from. */
  readonly specHash: string;
  /** The spec it was built from. */
  readonly spec: MasterSpec;
  /** The provider's handle on the master. */
  readonly master: MasterRef;
  /** Identity of the provider that built it. */
  readonly providerId: string;
  /** When it was built (ISO 8601). */
  readonly builtAt: string;
  /** How long the build took, in milliseconds. */
  readonly buildMs: number;
  /** Masters of earlier specs kept because nodes may still use them; deleted when none do. */
  readonly retired?: readonly MasterRef[];
  /**
   * With `recordSigning`: `hmac-sha256:<hex>` over the canonical JSON of the record without this
   * field, made with the fleet's key.
   */
  readonly signature?: string;
}

/** The blob name of an image's metadata. */
export function masterBlobName(imageId: string): string {
  return `${imageId}.json`;
}
