import type { BuildContext } from '@vmkit/core/spi';
import type { GuestCleanupReport, GuestCleanupStep } from './guest-cleanup.js';

const WHAT: Readonly<Record<GuestCleanupStep, string>> = {
  'clean-udev-rules': 'persistent NIC rules or DHCP leases',
  'reset-identity': 'machine-id, SSH host keys or host name',
};

/**
 * Reports a guest clean-up step (`clean-udev-rules`, `reset-identity`): the work itself ran at the
 * end of the post-install boot, so this step says what it removed (*done*), or that there was
 * nothing (*skipped*), or that the build never booted the master (*skipped*: a master made only by
 * an installer or an imported disk keeps the source's identity).
 */
export function reportGuestCleanup(
  c: BuildContext,
  report: GuestCleanupReport | undefined,
  step: GuestCleanupStep,
): void {
  if (!report) {
    c.markSkipped(`the build did not boot the master (no postInstall steps), so it made no ${WHAT[step]}`);
    return;
  }
  const done = report[step];
  if (done.length === 0) {
    c.markSkipped(`the master had no ${WHAT[step]} to remove`);
    return;
  }
  c.logger.info('libvirt guest clean-up', { master: c.masterName, step, removed: done });
  c.progress(1, `${step}: ${done.join(', ')}`);
}
