import { VmkitError } from '../errors/vmkit-error.js';
import type { GuestAgent } from '../spi/guest-agent.js';
import { sleep } from '../util/abort.js';

/**
 * The shell script (POSIX sh, busybox-compatible) that gives a resumed warm clone its own
 * identity from its own config drive. The clone wakes with the template's memory, so what the
 * guest read from the template's drive at boot is refreshed: the block device's cached pages are
 * dropped and its size re-read (the drive's medium changed under the running kernel), the drive
 * is found by label (`cidata`, `config-2`; for up to 5 s while the re-read settles) and mounted
 * read-only, the instance id and hostname
 * are read (NoCloud `meta-data` or OpenStack `meta_data.json`), the hostname is set (and
 * `/etc/hostname` where it exists), `/etc/machine-id` is made anew where it exists, SSH host keys
 * are made anew where they exist (and `sshd` restarted), then `$VMKIT_RESUME` (the spec's
 * `warm.resumeScript`) runs with `VMKIT_INSTANCE_ID`, `VMKIT_HOSTNAME` and `VMKIT_DRIVE`. It
 * prints `VMKIT-WARM-IDENTITY instance-id=<id> hostname=<name>` and exits non-zero when no drive
 * is found or the resume script fails.
 */
export const WARM_IDENTITY_SCRIPT = String.raw`
PATH=/usr/sbin:/usr/bin:/sbin:/bin
sync
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
for r in /sys/block/sr*/device/rescan; do [ -e "$r" ] && echo 1 >"$r" 2>/dev/null; done
dev=
tries=50
while [ -z "$dev" ] && [ "$tries" -gt 0 ]; do
  for l in cidata CIDATA config-2 CONFIG-2; do
    dev=$(findfs "LABEL=$l" 2>/dev/null) && [ -n "$dev" ] && break
    dev=
  done
  [ -n "$dev" ] || { sleep 0.1; tries=$((tries - 1)); }
done
[ -n "$dev" ] || { echo "VMKIT-WARM-IDENTITY no config drive" >&2; exit 3; }
mnt=$(mktemp -d /tmp/vmkit-warm.XXXXXX) || exit 4
mount -o ro -t iso9660 "$dev" "$mnt" 2>/dev/null || mount -o ro "$dev" "$mnt" || { rmdir "$mnt"; exit 4; }
field() { sed -n "s/^[ \"]*$1\"* *: *//p" "$2" | head -n 1 | tr -d "\"'\r" | sed 's/[ ,]*$//'; }
iid=
host=
if [ -f "$mnt/meta-data" ]; then
  iid=$(field instance-id "$mnt/meta-data")
  host=$(field local-hostname "$mnt/meta-data")
  [ -n "$host" ] || host=$(field hostname "$mnt/meta-data")
elif [ -f "$mnt/openstack/latest/meta_data.json" ]; then
  tr ',{}' '\n\n\n' <"$mnt/openstack/latest/meta_data.json" >/tmp/vmkit-warm-meta.$$
  iid=$(field uuid /tmp/vmkit-warm-meta.$$)
  host=$(field hostname /tmp/vmkit-warm-meta.$$)
  rm -f /tmp/vmkit-warm-meta.$$
fi
host=$(printf '%s' "$host" | tr -c 'A-Za-z0-9.-' '-' | cut -c1-63)
if [ -n "$host" ]; then
  hostname "$host"
  [ -f /etc/hostname ] && printf '%s\n' "$host" >/etc/hostname
fi
if [ -f /etc/machine-id ]; then
  tr -d '-' </proc/sys/kernel/random/uuid >/etc/machine-id.vmkit && mv /etc/machine-id.vmkit /etc/machine-id
fi
if ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1 && command -v ssh-keygen >/dev/null; then
  rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub && ssh-keygen -A >/dev/null
  command -v systemctl >/dev/null && systemctl try-restart ssh sshd >/dev/null 2>&1
fi
rc=0
if [ -n "$VMKIT_RESUME" ]; then
  VMKIT_INSTANCE_ID=$iid VMKIT_HOSTNAME=$host VMKIT_DRIVE=$mnt sh -c "$VMKIT_RESUME" || rc=$?
fi
umount "$mnt" && rmdir "$mnt"
echo "VMKIT-WARM-IDENTITY instance-id=$iid hostname=$host"
exit $rc
`;

/** How long the identity reset may take before the node is given up. */
const RESET_TIMEOUT_MS = 60_000;
/** Pause between looks at the reset script. */
const POLL_MS = 50;

/**
 * Runs {@link WARM_IDENTITY_SCRIPT} in a resumed clone through its guest agent and waits for it;
 * `PROVIDER` naming the exit status and the script's stderr when it fails, `TIMEOUT` after a minute.
 */
export async function resetWarmIdentity(
  agent: GuestAgent,
  node: string,
  resumeScript: string | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + RESET_TIMEOUT_MS;
  const pid = await agent.spawn(
    {
      path: '/bin/sh',
      args: ['-c', WARM_IDENTITY_SCRIPT],
      ...(resumeScript !== undefined ? { env: [`VMKIT_RESUME=${resumeScript}`] } : {}),
      captureOutput: agent.captureOutputBytes !== undefined,
    },
    signal ? { signal } : {},
  );
  for (;;) {
    const status = await agent.processStatus(pid, signal ? { signal } : {});
    if (status.exited) {
      if (status.exitCode === 0) return;
      const stderr = status.stderr ? Buffer.from(status.stderr).toString('utf8').slice(-500) : '';
      throw new VmkitError(
        'PROVIDER',
        `warm clone ${node}: the identity reset exited with ${status.exitCode ?? `signal ${status.signal}`}${stderr ? `: ${stderr}` : ''}`,
        { details: { node } },
      );
    }
    if (Date.now() > deadline)
      throw new VmkitError(
        'TIMEOUT',
        `warm clone ${node}: the identity reset took over ${RESET_TIMEOUT_MS} ms`,
        {
          details: { node },
        },
      );
    await sleep(POLL_MS, signal);
  }
}
