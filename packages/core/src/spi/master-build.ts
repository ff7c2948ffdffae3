import type { MasterSpec } from '../model/master-spec.js';
import type { Logger } from '../util/logger.js';

/**
 * The provider's handle on a built master, persisted in the image's JSON metadata and handed back
 * to the provider to check, clone or delete it. `data` must be JSON-serialisable.
 */
export interface MasterRef {
  /** The provider's name for the master (a domain, VM or volume name). */
  readonly id: string;
  /** Anything else the provider needs (pool, volume path, format, ...). */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** What each step of a master build is given. */
export interface BuildContext {
  /** The spec being built. */
  readonly spec: MasterSpec;
  /** The name core chose for the master; unique per spec hash. */
  readonly masterName: string;
  /** Fires when the build is aborted; steps stop promptly and leave their work for `discard`. */
  readonly signal: AbortSignal;
  /** Where steps log. */
  readonly logger: Logger;
  /** State shared by the steps of one build (e.g. the domain created by the first step). */
  readonly state: Map<string, unknown>;
  /** Reports progress within the running step, `fraction` from 0 to 1. */
  progress(fraction: number, message?: string): void;
  /**
   * Says the running step had nothing to do (e.g. `post-install` without steps, `detach-isos` on a
   * master that never had one): core reports it as *skipped* with the reason, never as *done*.
   */
  markSkipped(reason: string): void;
}

/** One named, re-runnable step of a master build. Running it twice must be safe. */
export interface BuildStep {
  /** Step name, e.g. `create-and-install` (see {@link STANDARD_BUILD_STEPS}). */
  readonly name: string;
  /** Extra attempts after a failure that is not an abort (default 0). */
  readonly retries?: number;
  /** Does the work. */
  run(context: BuildContext): Promise<void>;
}

/** A provider's plan for building one master. */
export interface MasterBuild {
  /** The steps, run in order by core's pipeline. */
  readonly steps: readonly BuildStep[];
  /** Called after every step succeeded: seals the master and returns its reference. */
  finish(context: BuildContext): Promise<MasterRef>;
  /** Removes whatever the build made so far; called on failure or abort. Must be idempotent. */
  discard(context: BuildContext): Promise<void>;
}

/**
 * The step names every provider uses, in this order, so progress reads the same everywhere.
 * A provider may add steps; a step that does not apply still runs (as a no-op) under its name.
 */
export const STANDARD_BUILD_STEPS = Object.freeze([
  'create-and-install',
  'install-agent',
  'post-install',
  'detach-isos',
  'detach-nics',
  'clean-udev-rules',
  'reset-identity',
] as const);
