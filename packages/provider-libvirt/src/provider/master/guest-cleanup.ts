import type { PostInstallStep } from '@vmkit/core/spi';

/** The standard build steps that act inside the guest, during the post-install boot. */
export type GuestCleanupStep = 'clean-udev-rules' | 'reset-identity';

/** What each guest clean-up step removed or reset, by step (empty: there was nothing to do). */
export type GuestCleanupReport = Readonly<Record<GuestCleanupStep, readonly string[]>>;

const MARKER = 'VMKIT-CLEANED';

/**
 * Persistent NIC names and DHCP leases: a clone has other MACs, so a rule that pins `eth0` to the
 * master's MAC would rename its NIC, and an old lease would be asked for again.
 */
const CLEAN_UDEV_RULES = `for f in /etc/udev/rules.d/70-persistent-net.rules /etc/udev/rules.d/70-persistent-cd.rules \\
  /var/lib/dhcp/*.leases /var/lib/dhclient/*.leases /var/lib/NetworkManager/*.lease; do
  [ -e "$f" ] || continue
  rm -f "$f" && echo "${MARKER} clean-udev-rules $f"
done
`;

/**
 * The machine's identity: an emptied `/etc/machine-id` makes systemd make a new one at the next
 * boot (the way images ship it); SSH host keys are removed, so each clone's cloud-init makes its
 * own; the host name goes back to `localhost`, for the node's config drive to set.
 */
const RESET_IDENTITY = `if [ -s /etc/machine-id ]; then
  : >/etc/machine-id && echo "${MARKER} reset-identity /etc/machine-id"
fi
if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then
  rm -f /var/lib/dbus/machine-id && echo "${MARKER} reset-identity /var/lib/dbus/machine-id"
fi
for f in /etc/ssh/ssh_host_*; do
  [ -e "$f" ] || continue
  rm -f "$f" && echo "${MARKER} reset-identity $f"
done
if [ -f /etc/hostname ] && [ "$(cat /etc/hostname)" != localhost ]; then
  echo localhost >/etc/hostname && echo "${MARKER} reset-identity /etc/hostname"
fi
`;

/**
 * The guest clean-up, as steps run after the spec's own in the post-install boot (so they see
 * what the spec's steps left). Each prints `VMKIT-CLEANED <step> <path>` for what it removed or
 * reset; {@link readGuestCleanup} reads those lines back.
 */
export const GUEST_CLEANUP_STEPS: readonly (PostInstallStep & { readonly step: GuestCleanupStep })[] = [
  { step: 'clean-udev-rules', name: 'vmkit-clean-udev-rules', run: CLEAN_UDEV_RULES },
  { step: 'reset-identity', name: 'vmkit-reset-identity', run: RESET_IDENTITY },
];

/** What the guest clean-up steps reported on a post-install console. */
export function readGuestCleanup(consoleText: string): GuestCleanupReport {
  const report: Record<GuestCleanupStep, string[]> = { 'clean-udev-rules': [], 'reset-identity': [] };
  for (const line of consoleText.split(/\r?\n/)) {
    const m = /VMKIT-CLEANED (clean-udev-rules|reset-identity) (\S.*?)\s*$/.exec(line);
    if (m) report[m[1] as GuestCleanupStep].push(m[2] ?? '');
  }
  return report;
}
