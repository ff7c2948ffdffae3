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

/** What each step of a master build is given; `S` is the build's state (see {@link MasterBuild.initialState}). */
export interface BuildContext<S = unknown> {
  /** The spec being built. */
  readonly spec: MasterSpec;
  /** The name core chose for the master; unique per spec hash. */
  readonly masterName: string;
  /** Fires when the build is aborted; steps stop promptly and leave their work for `discard`. */
  readonly signal: AbortSignal;
  /** Where steps log. */
  readonly logger: Logger;
  /**
   * State shared by the steps of one build (e.g. the domain created by the first step): the value
   * {@link MasterBuild.initialState} returned, which steps change in place.
   */
  readonly state: S;
  /** Reports progress within the running step, `fraction` from 0 to 1. */
  progress(fraction: number, message?: string): void;
  /**
   * Says the running step had nothing to do (e.g. `post-install` without steps, `detach-isos` on a
   * master that never had one): core reports it as *skipped* with the reason, never as *done*.
   */
  markSkipped(reason: string): void;
}

/** One named, re-runnable step of a master build. Running it twice must be safe. */
export interface BuildStep<S = unknown> {
  /** Step name, e.g. `create-and-install` (see {@link STANDARD_BUILD_STEPS}). */
  readonly name: string;
  /** Extra attempts after a failure that is not an abort (default 0). */
  readonly retries?: number;
  /** Does the work. */
  run(context: BuildContext<S>): Promise<void>;
}

/**
 * A provider's plan for building one master, its steps sharing a state of type `S`.
 *
 * `steps` are the steps the provider *supplies*: of the {@link STANDARD_BUILD_STEPS}, those it
 * acts on (`create-and-install` is required), then any of its own. Core runs the standard steps in
 * their standard order, then the provider's own in the order given; a standard step the provider
 * does not supply is reported as *skipped* with the reason core gives for it (see
 * {@link standardStepSkipReason}), never as done. `post-install` not supplied while the spec has
 * post-install steps fails the build before anything is made (`UNSUPPORTED`).
 */
export interface MasterBuild<S = unknown> {
  /** The state of a new build, made once per build before its first step. */
  initialState(): S;
  /** The steps the provider supplies (see above). */
  readonly steps: readonly BuildStep<S>[];
  /** Called after every step succeeded: seals the master and returns its reference. */
  finish(context: BuildContext<S>): Promise<MasterRef>;
  /** Removes whatever the build made so far; called on failure or abort. Must be idempotent. */
  discard(context: BuildContext<S>): Promise<void>;
}

/**
 * The step names every build reports, in this order, so progress reads the same everywhere. A
 * provider supplies those it acts on and may add its own (run after these); core reports the
 * others as skipped.
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

/** One of the {@link STANDARD_BUILD_STEPS}. */
export type StandardBuildStep = (typeof STANDARD_BUILD_STEPS)[number];

/**
 * What not supplying a standard step says about a provider's masters: the reason core reports
 * the step skipped with. (`create-and-install` must be supplied; `post-install` only reads as
 * skipped for a spec without post-install steps.)
 */
const SKIP_REASONS: Readonly<Record<Exclude<StandardBuildStep, 'create-and-install'>, string>> = {
  'install-agent': 'the provider installs no guest agent (install one in the image or with postInstall)',
  'post-install': 'the spec has no post-install steps',
  'detach-isos': 'the provider leaves no ISO attached to its masters',
  'detach-nics': 'the provider leaves no NIC attached to its masters',
  'clean-udev-rules': 'the provider does not clean udev rules (use postInstall steps)',
  'reset-identity': 'the provider does not reset the machine id and host name (use postInstall steps)',
};

/**
 * The reason core reports a standard step skipped with when the provider does not supply it;
 * `undefined` for `create-and-install`, which every provider must supply.
 */
export function standardStepSkipReason(step: StandardBuildStep): string | undefined {
  return step === 'create-and-install' ? undefined : SKIP_REASONS[step];
}
