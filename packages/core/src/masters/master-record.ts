import type { LoginCredentials } from '../model/login-credentials.js';
import type { MasterSpec } from '../model/master-spec.js';
import type { MasterRef } from '../spi/master-build.js';
import type { WarmStateRef } from '../spi/warm-clones.js';

/** The version of the persisted master metadata this code writes and reads. */
export const MASTER_RECORD_SCHEMA_VERSION = 1;

/**
 * The login of a spec as a record keeps it: no `password` or `privateKey`, but a slow digest of
 * them (`secretsDigest`), so that a changed secret still changes the spec hash. Records written
 * before secrets were kept out may still hold them; they are rewritten without them at load.
 */
export interface StoredLoginCredentials extends LoginCredentials {
  /** scrypt digest of the login's password and private key (see `login-secrets.ts`). */
  readonly secretsDigest?: string;
}

/** A spec as a record keeps it: its login without secrets. */
export interface StoredMasterSpec extends MasterSpec {
  /** How to log in, secrets replaced by their digest. */
  readonly login?: StoredLoginCredentials;
}

/** Where a master made from a node came from (see {@link MasterRecord.origin}). */
export interface MasterOrigin {
  /** The node's name when the image was made. */
  readonly node: string;
  /** The image the node was cloned from. */
  readonly imageId: string;
}

/** A warm master's saved template state, kept in its record (see `MasterSpec.warm`). */
export interface WarmStateRecord {
  /** The provider's handle on the state. */
  readonly state: WarmStateRef;
  /** When the template was saved (ISO 8601). */
  readonly savedAt: string;
  /** Bytes of the state image. */
  readonly stateBytes: number;
  /** The hardware the template ran with: warm clones get exactly this. */
  readonly hardware: { readonly cores: number; readonly ramMiB: number };
  /** Set when a clone could not use the state: the next warm request saves a new one. */
  readonly stale?: true;
  /**
   * The SSH host key types the template had (`/etc/ssh/ssh_host_<type>_key`), when its agent
   * said: each clone's are made on the host for these; absent, for all three.
   */
  readonly sshHostKeyTypes?: readonly ('rsa' | 'ecdsa' | 'ed25519')[];
  /**
   * Set when the template's sshd reads its host keys afresh for each connection (OpenSSH before
   * 9.8, as its agent found): a clone's sshd is then not restarted after its keys are written.
   */
  readonly sshdRereadsHostKeys?: true;
}

/** The JSON metadata persisted for each built master, one blob per master. */
export interface MasterRecord {
  /** Always {@link MASTER_RECORD_SCHEMA_VERSION}. */
  readonly schemaVersion: 1;
  /** The image id. */
  readonly imageId: string;
  /** Hash of the canonical stored spec it was built from (the SHA-256 of `spec` as stored). */
  readonly specHash: string;
  /** The spec it was built from, login secrets replaced by their digest. */
  readonly spec: StoredMasterSpec;
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
   * Set on an image made from a node (`createImageFromNode`): the node and the image it was
   * cloned from. Such a master cannot be built again from its spec (the spec's source made the
   * original image, not this one): when it vanishes, the image is `broken` for good.
   */
  readonly origin?: MasterOrigin;
  /** A warm master's saved template state, once made; deleted with the master. */
  readonly warm?: WarmStateRecord;
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
