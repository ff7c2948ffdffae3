import type { GuestCleanupReport, GuestCleanupStep } from './guest-cleanup.js';
import type { BuildContext } from './master-build.js';

const WHAT: Readonly<Record<GuestCleanupStep, string>> = {
  'clean-udev-rules': 'persistent NIC rules or DHCP leases',
  'reset-identity': 'machine-id, SSH host keys or host name',
};

/**
 * What a provider knows of the guest clean-up after its post-install boot: the report read back
 * (see `readGuestCleanup`), `'unreported'` when the steps ran but the guest had no way to say what
 * they removed (a VirtualBox guest without guest additions), or `undefined` when the build never
 * booted the master.
 */
export type GuestCleanupOutcome = GuestCleanupReport | 'unreported' | undefined;

/**
 * Reports a guest clean-up step (`clean-udev-rules`, `reset-identity`), the same on every
 * provider: the work itself ran at the end of the post-install boot (see `GUEST_CLEANUP_STEPS`),
 * so this step says what it removed (*done*), or that it ran unreported (*done*), or that there
 * was nothing (*skipped*), or that the build never booted the master (*skipped*: a master made
 * only by an installer or an imported disk keeps the source's identity).
 *
 * @param c The running step's context.
 * @param outcome What the provider read back from the post-install boot.
 * @param step The step being reported.
 */
export function reportGuestCleanup(
  c: BuildContext,
  outcome: GuestCleanupOutcome,
  step: GuestCleanupStep,
): void {
  if (!outcome) {
    c.markSkipped(`the build did not boot the master (no postInstall steps), so it made no ${WHAT[step]}`);
    return;
  }
  if (outcome === 'unreported') {
    c.progress(1, `${step}: ran in the post-install boot (the guest could not report what it removed)`);
    return;
  }
  const done = outcome[step];
  if (done.length === 0) {
    c.markSkipped(`the master had no ${WHAT[step]} to remove`);
    return;
  }
  c.logger.info('guest clean-up', { master: c.masterName, step, removed: done });
  c.progress(1, `${step}: ${done.join(', ')}`);
}
