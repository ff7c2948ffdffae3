import { VmkitError } from '../errors/vmkit-error.js';
import type { GuestAgent } from '../spi/guest-agent.js';
import { sleep } from '../util/abort.js';

/**
 * The shell script (POSIX sh, busybox-compatible) that gives a resumed warm clone its own
 * identity from its own config drive. The clone wakes with the template's memory, so what the
 * guest read from the template's drive at boot is refreshed: the CD-ROM devices' sizes are re-read
 * and their cached blocks dropped (`blockdev --flushbufs`; all clean caches where the guest has no
 * `blockdev`: a Debian guest then reads back everything it runs, seconds under TCG), since the
 * drive's medium changed under the running kernel; the drive
 * is found by label (`cidata`, `config-2`; for up to 5 s while the re-read settles) and mounted
 * read-only, the instance id and hostname are read (NoCloud `meta-data` or OpenStack
 * `meta_data.json`), the hostname is set (and `/etc/hostname` where it exists, and the
 * `127.0.1.1` line of `/etc/hosts` where it has one), `/etc/machine-id` is made anew where it
 * exists, SSH host keys are made anew where they exist, of the types the guest has (and `sshd`
 * restarted), the clone's SSH keys are authorised (see below), then `$VMKIT_RESUME` (the spec's
 * `warm.resumeScript`) runs with `VMKIT_INSTANCE_ID`, `VMKIT_HOSTNAME` and `VMKIT_DRIVE`. It
 * prints `VMKIT-WARM-IDENTITY instance-id=<id> hostname=<name>` and exits non-zero when no drive
 * is found, the login user of the keys does not
 * exist, or the resume script fails.
 *
 * The keys (cloud-init, which authorised the template's keys at its boot, does not run again):
 * in the login user's `~/.ssh/authorized_keys` — `$VMKIT_SSH_USER`, else the user cloud-init made
 * (`/etc/sudoers.d/90-cloud-init-users`) — the lines holding a key of `$VMKIT_SSH_DROP_KEYS` (the
 * template's, one a line) are removed and the keys of `$VMKIT_SSH_KEYS` (the clone's, one a line)
 * added, the file owned by the user, mode 0600 in a 0700 directory. Nothing is done when there
 * are no keys, or no user is named and cloud-init made none.
 */
export const WARM_IDENTITY_SCRIPT = String.raw`
PATH=/usr/sbin:/usr/bin:/sbin:/bin
for r in /sys/block/sr*/device/rescan; do [ -e "$r" ] && echo 1 >"$r" 2>/dev/null; done
flushed=1
for d in /dev/sr*; do [ -b "$d" ] && { blockdev --flushbufs "$d" 2>/dev/null || flushed=; }; done
[ -n "$flushed" ] || { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; }
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
fail() { echo "VMKIT-WARM-IDENTITY $2" >&2; umount "$mnt" 2>/dev/null; rmdir "$mnt" 2>/dev/null; exit "$1"; }
field() { sed -n "s/^[ \"]*$1\"* *: *//p" "$2" | head -n 1 | tr -d "\"'\r" | sed 's/[ ,]*$//'; }
iid=
host=
if [ -f "$mnt/meta-data" ]; then
  iid=$(field instance-id "$mnt/meta-data")
  host=$(field local-hostname "$mnt/meta-data")
  [ -n "$host" ] || host=$(field hostname "$mnt/meta-data")
elif [ -f "$mnt/openstack/latest/meta_data.json" ]; then
  meta=$(mktemp -d /tmp/vmkit-warm-meta.XXXXXX) || exit 4
  tr ',{}' '\n\n\n' <"$mnt/openstack/latest/meta_data.json" >"$meta/fields"
  iid=$(field uuid "$meta/fields")
  host=$(field hostname "$meta/fields")
  rm -rf "$meta"
fi
host=$(printf '%s' "$host" | tr -c 'A-Za-z0-9.-' '-' | cut -c1-63)
if [ -n "$host" ]; then
  hostname "$host"
  [ -f /etc/hostname ] && printf '%s\n' "$host" >/etc/hostname
  grep -q '^127\.0\.1\.1[[:space:]]' /etc/hosts 2>/dev/null &&
    sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1 $host/" /etc/hosts
fi
if [ -f /etc/machine-id ]; then
  tr -d '-' </proc/sys/kernel/random/uuid >/etc/machine-id.vmkit && mv /etc/machine-id.vmkit /etc/machine-id
fi
if ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1 && command -v ssh-keygen >/dev/null; then
  for k in /etc/ssh/ssh_host_*_key; do
    t=$(printf '%s' "$k" | sed 's,^.*/ssh_host_\(.*\)_key$,\1,')
    rm -f "$k" "$k.pub" && ssh-keygen -q -t "$t" -N '' -f "$k" >/dev/null || fail 7 "cannot make $k"
  done
  command -v systemctl >/dev/null && systemctl try-restart ssh sshd >/dev/null 2>&1
fi
user=$VMKIT_SSH_USER
if [ -z "$user" ] && [ -f /etc/sudoers.d/90-cloud-init-users ]; then
  user=$(sed -n 's/^\([A-Za-z_][A-Za-z0-9_.-]*\)  *ALL=.*/\1/p' /etc/sudoers.d/90-cloud-init-users | head -n 1)
fi
if [ -n "$user" ] && [ -n "$VMKIT_SSH_KEYS$VMKIT_SSH_DROP_KEYS" ]; then
  ids=$(awk -F: -v u="$user" '$1 == u { print $3 ":" $4; exit }' /etc/passwd)
  home=$(awk -F: -v u="$user" '$1 == u { print $6; exit }' /etc/passwd)
  [ -n "$ids" ] && [ -d "$home" ] || fail 5 "no user $user for the SSH keys"
  ak=$home/.ssh/authorized_keys
  mkdir -p "$home/.ssh" && touch "$ak" || fail 6 "cannot write $ak"
  printf '%s\n' "$VMKIT_SSH_DROP_KEYS" >/tmp/vmkit-warm-drop.$$
  {
    awk 'NR == FNR { if ($2 != "") drop[$2] = 1; next } { for (i = 1; i <= NF; i++) if ($i in drop) next; print }' \
      /tmp/vmkit-warm-drop.$$ "$ak"
    printf '%s\n' "$VMKIT_SSH_KEYS" | sed '/^$/d'
  } >"$ak.vmkit" && chmod 600 "$ak.vmkit" && mv "$ak.vmkit" "$ak" || fail 6 "cannot write $ak"
  rm -f /tmp/vmkit-warm-drop.$$
  chown "$ids" "$home/.ssh" "$ak" && chmod 700 "$home/.ssh" || fail 6 "cannot give $ak to $user"
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

/** What a clone's identity reset applies besides what its drive says. */
export interface WarmIdentityOptions {
  /** The spec's `warm.resumeScript`. */
  readonly resumeScript?: string;
  /** The login user whose `authorized_keys` get the keys (default: the user cloud-init made). */
  readonly sshUser?: string;
  /** The clone's keys to authorise (its drive's `public-keys`). */
  readonly sshKeys?: readonly string[];
  /** The template's keys to remove (authorised from the template's drive at its boot). */
  readonly dropSshKeys?: readonly string[];
}

/**
 * Runs {@link WARM_IDENTITY_SCRIPT} in a resumed clone through its guest agent and waits for it;
 * `PROVIDER` naming the exit status and the script's stderr when it fails, `TIMEOUT` after a minute.
 */
export async function resetWarmIdentity(
  agent: GuestAgent,
  node: string,
  options: WarmIdentityOptions,
  signal?: AbortSignal,
): Promise<void> {
  const env = [
    ...(options.resumeScript !== undefined ? [`VMKIT_RESUME=${options.resumeScript}`] : []),
    ...(options.sshUser !== undefined ? [`VMKIT_SSH_USER=${options.sshUser}`] : []),
    ...(options.sshKeys?.length ? [`VMKIT_SSH_KEYS=${options.sshKeys.join('\n')}`] : []),
    ...(options.dropSshKeys?.length ? [`VMKIT_SSH_DROP_KEYS=${options.dropSshKeys.join('\n')}`] : []),
  ];
  const deadline = Date.now() + RESET_TIMEOUT_MS;
  const pid = await agent.spawn(
    {
      path: '/bin/sh',
      args: ['-c', WARM_IDENTITY_SCRIPT],
      ...(env.length > 0 ? { env } : {}),
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
