import type { ProgressEvent } from '@vmkit/core';

type Outcome = 'done' | 'skipped';

/** Each build step's outcome (`stepOutcome` of its last event), from a build's progress events. */
export function stepOutcomes(events: readonly ProgressEvent[]): Record<string, Outcome> {
  return Object.fromEntries(
    events.filter((e) => e.stepOutcome !== undefined).map((e) => [e.step, e.stepOutcome as Outcome]),
  );
}

/**
 * The outcomes of a libvirt master build that ran `postInstall` steps: `create-and-install` and
 * `post-install` done; `install-agent`, `detach-isos` and `detach-nics` skipped (a libvirt master
 * is a volume); the guest clean-up steps as the guest's state makes them.
 */
export function postInstallBuildOutcomes(guest: {
  readonly cleanUdevRules: Outcome;
  readonly resetIdentity: Outcome;
}): Record<string, Outcome> {
  return {
    'create-and-install': 'done',
    'install-agent': 'skipped',
    'post-install': 'done',
    'detach-isos': 'skipped',
    'detach-nics': 'skipped',
    'clean-udev-rules': guest.cleanUdevRules,
    'reset-identity': guest.resetIdentity,
  };
}
