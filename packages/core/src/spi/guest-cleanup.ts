import type { PostInstallStep } from '../model/master-spec.js';

/** The standard build steps that act inside the guest, during the post-install boot. */
export type GuestCleanupStep = 'clean-udev-rules' | 'reset-identity';

/** What each guest clean-up step removed or reset, by step (empty: there was nothing to do). */
export type GuestCleanupReport = Readonly<Record<GuestCleanupStep, readonly string[]>>;

/**
 * How a clean-up step reports a path it removed or reset: a `VMKIT-CLEANED <step> <path>` line on
 * its output (a console that shows it) and appended to `$VMKIT_REPORT` (see `postInstallScript`),
 * for a provider that reads the report through another channel.
 */
const CLEANED = `vmkit_cleaned() {
  echo "VMKIT-CLEANED $1 $2"
  echo "VMKIT-CLEANED $1 $2" >>"\${VMKIT_REPORT:-/dev/null}"
}
`;

/**
 * Persistent NIC names and DHCP leases: a clone has other MACs, so a rule that pins `eth0` to the
 * master's MAC would rename its NIC, and an old lease would be asked for again.
 */
const CLEAN_UDEV_RULES = `${CLEANED}for f in /etc/udev/rules.d/70-persistent-net.rules /etc/udev/rules.d/70-persistent-cd.rules \\
  /var/lib/dhcp/*.leases /var/lib/dhclient/*.leases /var/lib/NetworkManager/*.lease; do
  [ -e "$f" ] || continue
  rm -f "$f" && vmkit_cleaned clean-udev-rules "$f"
done
`;

/**
 * The machine's identity: an emptied `/etc/machine-id` makes systemd make a new one at the next
 * boot (the way images ship it); SSH host keys are removed, so each clone's cloud-init makes its
 * own; the host name goes back to `localhost`, for the node's config drive to set.
 */
const RESET_IDENTITY = `${CLEANED}if [ -s /etc/machine-id ]; then
  : >/etc/machine-id && vmkit_cleaned reset-identity /etc/machine-id
fi
if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then
  rm -f /var/lib/dbus/machine-id && vmkit_cleaned reset-identity /var/lib/dbus/machine-id
fi
for f in /etc/ssh/ssh_host_*; do
  [ -e "$f" ] || continue
  rm -f "$f" && vmkit_cleaned reset-identity "$f"
done
if [ -f /etc/hostname ] && [ "$(cat /etc/hostname)" != localhost ]; then
  echo localhost >/etc/hostname && vmkit_cleaned reset-identity /etc/hostname
fi
`;

/**
 * The guest clean-up, as steps run after the spec's own in the post-install boot (so they see
 * what the spec's steps left), on every provider. Each prints `VMKIT-CLEANED <step> <path>` for
 * what it removed or reset, and appends the line to `$VMKIT_REPORT`; {@link readGuestCleanup}
 * reads those lines back (from a console, or from the report file's copy a provider fetched).
 */
export const GUEST_CLEANUP_STEPS: readonly (PostInstallStep & { readonly step: GuestCleanupStep })[] = [
  { step: 'clean-udev-rules', name: 'vmkit-clean-udev-rules', run: CLEAN_UDEV_RULES },
  { step: 'reset-identity', name: 'vmkit-reset-identity', run: RESET_IDENTITY },
];

/** What the guest clean-up steps reported: their `VMKIT-CLEANED` lines in a console or report text. */
export function readGuestCleanup(consoleText: string): GuestCleanupReport {
  const report: Record<GuestCleanupStep, string[]> = { 'clean-udev-rules': [], 'reset-identity': [] };
  for (const line of consoleText.split(/\r?\n/)) {
    const m = /VMKIT-CLEANED (clean-udev-rules|reset-identity) (\S.*?)\s*$/.exec(line);
    if (m) report[m[1] as GuestCleanupStep].push(m[2] ?? '');
  }
  return report;
}
