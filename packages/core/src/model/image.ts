import type { Hardware } from './hardware.js';
import type { LoginCredentials } from './login-credentials.js';
import type { OperatingSystem } from './operating-system.js';

/**
 * Where an image stands:
 * - `buildable`: its spec is known, no master exists yet;
 * - `building`: a build is running;
 * - `available`: the master exists and nodes can be cloned from it;
 * - `broken`: the last build failed or the master vanished from the hypervisor; the next demand rebuilds it.
 */
export type ImageStatus = 'buildable' | 'building' | 'available' | 'broken';

/** A master image as callers see it. */
export interface Image {
  /** Image id (the MasterSpec id). */
  readonly id: string;
  /** Human-readable name. */
  readonly name: string;
  /** Its operating system. */
  readonly os: OperatingSystem;
  /** Where it stands. */
  readonly status: ImageStatus;
  /** Why it is `broken`, when it is. */
  readonly statusDetail?: string;
  /** The hardware its nodes get by default. */
  readonly defaultHardware: Hardware;
  /** How to log in to its nodes. */
  readonly login?: LoginCredentials;
  /** Hash of the canonical spec the master was (or will be) built from. */
  readonly specHash: string;
  /** When the master was built (ISO 8601), if it was. */
  readonly builtAt?: string;
  /**
   * Set when the image is warm (its spec has `warm`): when its template state was saved (absent:
   * not yet, the first warm call saves it) and whether that state is stale (saved again next time).
   */
  readonly warm?: { readonly savedAt?: string; readonly stale?: boolean };
}
