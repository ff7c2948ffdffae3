import { describe, expect, it } from 'vitest';
import { GUEST_CLEANUP_STEPS, readGuestCleanup } from './guest-cleanup.js';
import { reportGuestCleanup } from './guest-cleanup-report.js';
import type { BuildContext } from './master-build.js';

/** A build context that records what a step reported. */
function recordingContext() {
  const seen: { skipped?: string; progress: string[] } = { progress: [] };
  const c = {
    masterName: 'm',
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    progress: (_f: number, m?: string) => seen.progress.push(m ?? ''),
    markSkipped: (reason: string) => {
      seen.skipped = reason;
    },
  } as unknown as BuildContext;
  return { c, seen };
}

describe('guest clean-up', () => {
  it('runs as two post-install steps whose names pass core rules and print what they remove', () => {
    expect(GUEST_CLEANUP_STEPS.map((s) => [s.step, s.name])).toEqual([
      ['clean-udev-rules', 'vmkit-clean-udev-rules'],
      ['reset-identity', 'vmkit-reset-identity'],
    ]);
    const reset = GUEST_CLEANUP_STEPS[1]?.run ?? '';
    for (const what of ['/etc/machine-id', '/etc/ssh/ssh_host_', '/etc/hostname'])
      expect(reset).toContain(what);
    expect(GUEST_CLEANUP_STEPS[0]?.run).toContain('70-persistent-net.rules');
    // Each also appends its lines to the report file the post-install script names.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    for (const s of GUEST_CLEANUP_STEPS) expect(s.run).toContain('>>"${VMKIT_REPORT:-/dev/null}"');
  });

  it('reads the VMKIT-CLEANED lines of a console by step, ignoring other lines and \\r', () => {
    const text = [
      '[    3.1] random: crng init done',
      'VMKIT-STEP-BEGIN vmkit-clean-udev-rules',
      'VMKIT-STEP-END vmkit-clean-udev-rules rc=0',
      'VMKIT-CLEANED reset-identity /etc/machine-id\r',
      '[   40.2] cloud-init[512]: VMKIT-CLEANED reset-identity /etc/ssh/ssh_host_ed25519_key',
      'VMKIT-CLEANED other-step /x',
    ].join('\n');
    expect(readGuestCleanup(text)).toEqual({
      'clean-udev-rules': [],
      'reset-identity': ['/etc/machine-id', '/etc/ssh/ssh_host_ed25519_key'],
    });
  });

  it('reports done with what was removed or unreported, skipped when there was nothing or no boot', () => {
    const done = recordingContext();
    reportGuestCleanup(
      done.c,
      { 'clean-udev-rules': [], 'reset-identity': ['/etc/machine-id'] },
      'reset-identity',
    );
    expect(done.seen.skipped).toBeUndefined();
    expect(done.seen.progress).toEqual(['reset-identity: /etc/machine-id']);

    const nothing = recordingContext();
    reportGuestCleanup(nothing.c, { 'clean-udev-rules': [], 'reset-identity': ['/x'] }, 'clean-udev-rules');
    expect(nothing.seen.skipped).toMatch(/no persistent NIC rules or DHCP leases/);

    const noBoot = recordingContext();
    reportGuestCleanup(noBoot.c, undefined, 'reset-identity');
    expect(noBoot.seen.skipped).toMatch(/did not boot the master/);

    const unreported = recordingContext();
    reportGuestCleanup(unreported.c, 'unreported', 'clean-udev-rules');
    expect(unreported.seen.skipped).toBeUndefined();
    expect(unreported.seen.progress).toEqual([
      'clean-udev-rules: ran in the post-install boot (the guest could not report what it removed)',
    ]);
  });
});
