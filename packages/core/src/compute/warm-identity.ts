import { randomBytes } from 'node:crypto';
import type { SshHostKeyType } from '../credentials/ssh-host-keys.js';
import type { SshKeyPair } from '../credentials/ssh-key-pair.js';
import { VmkitError } from '../errors/vmkit-error.js';
import { waitForStatus } from '../guest/agent-process.js';
import type { GuestAgent } from '../spi/guest-agent.js';

/**
 * The shell script (POSIX sh, busybox-compatible) that gives a resumed warm clone its own
 * identity from its own config drive. The SSH host keys are written anew first, where they exist
 * (see below), so that sshd restarts with them while the rest runs. The clone wakes with the
 * template's memory, so what the
 * guest read from the template's drive at boot is refreshed: the CD-ROM devices' sizes are re-read
 * and their cached blocks dropped (`blockdev --flushbufs`; all clean caches where the guest has no
 * `blockdev`: a Debian guest then reads back everything it runs, seconds under TCG), since the
 * drive's medium changed under the running kernel. The instance id and hostname are the drive's:
 * given by the host (`$VMKIT_IDENTITY` set, with `$VMKIT_IDENTITY_INSTANCE` and
 * `$VMKIT_IDENTITY_HOSTNAME`, which the host wrote on the drive), else read from it (NoCloud
 * `meta-data` or OpenStack `meta_data.json`). The drive is found by label (`cidata`, `config-2`;
 * for up to 5 s while the re-read settles) and mounted read-only only when its identity is not
 * given or a resume script is to read it. The hostname is set
 * (`/proc/sys/kernel/hostname`, `/etc/hostname` where it exists, and the `127.0.1.1` lines of
 * `/etc/hosts` where it has them), `/etc/machine-id` is written anew where it exists (from
 * `$VMKIT_MACHINE_ID`, made on the host), the clone's SSH keys are authorised (see below), the
 * script waits for sshd to listen again (see below), then `$VMKIT_RESUME` (the spec's
 * `warm.resumeScript`) runs with `VMKIT_INSTANCE_ID`, `VMKIT_HOSTNAME` and `VMKIT_DRIVE`. It
 * prints `VMKIT-WARM-IDENTITY instance-id=<id> hostname=<name> rng=<how>` and exits non-zero when
 * no drive is found, the login user of the keys does not exist, or the resume script fails.
 *
 * Before all that, the kernel's random number generator: a clone wakes with the template's, so
 * clones would give the same random bytes (SSH's ephemeral keys among them) until the kernel next
 * reseeds on its own, up to a minute later. `$VMKIT_ENTROPY` (bytes made on the host, as `printf`
 * octal escapes) is written to `/dev/urandom`, and the reseed is forced: by the kernel itself where
 * a device is bound to its VM generation id driver (each clone's domain has its own id), else by
 * the `RNDRESEEDCRNG` ioctl through `perl` or `python3` (Linux 5.18 and later reseed on it
 * whatever entropy was credited; the request number is x86's and arm64's); `rng=` says which
 * (`vmgenid`, `perl`, `python3`), or `none` when the guest has none of them. Only the kernel's
 * generator: random state inside programs already running in the template, and the kernel's own
 * boot-time secrets, stay the template's (see the warm clones guide).
 *
 * It starts as few programs as it can (shell built-ins do the rest): right after a restore an
 * emulated (TCG) guest has no translated code, so each program started costs a few hundred
 * milliseconds on a loaded host (a trace of the first version, about 50 programs, spent 19-25 s
 * in a Debian clone; the next about 10). Given its identity, with no resume script and the
 * host's host keys, it starts one program, `blockdev`, per CD-ROM (and `sleep` while an sshd it
 * had to signal starts again), and `perl` or `python3` once where the kernel has no VM generation
 * id driver to reseed its random number generator.
 *
 * Host keys: each `/etc/ssh/ssh_host_<type>_key` (and `.pub`) is rewritten in place from
 * `$VMKIT_HOST_KEY_<type>` and `$VMKIT_HOST_PUB_<type>` (made on the host, for `rsa`, `ecdsa`,
 * `ed25519`), else made by `ssh-keygen`; then a running `sshd` (`/run/sshd.pid`) is sent `SIGHUP`,
 * which makes it execute itself again with the new keys (no service restart), unless
 * `$VMKIT_SSHD_REREADS` is set (the template's sshd reads them for each connection: OpenSSH
 * before 9.8, see {@link SshProbe}) and no `sshd-session` program (OpenSSH 9.8's) is found in
 * the places distributions put it. Where the pid file cannot be emptied, sshd is signalled
 * without the wait. Its listening
 * socket is closed until the new one is bound (connections meanwhile are reset, 0.5-0.9 s in a
 * Debian clone under TCG), so the pid file is emptied before the signal and the script waits, as
 * its last step before the resume script, until sshd has written it again, which it does once it
 * listens (50 ms pauses, up to 10 s while the process lives; the pid is written back if it never
 * did). The node is thus not reported running while its sshd refuses connections.
 *
 * The keys (cloud-init, which authorised the template's keys at its boot, does not run again):
 * in the login user's `~/.ssh/authorized_keys` — `$VMKIT_SSH_USER`, else the user cloud-init made
 * (`/etc/sudoers.d/90-cloud-init-users`) — the lines holding a key of `$VMKIT_SSH_DROP_KEYS` (the
 * template's, one a line) or of `$VMKIT_SSH_KEYS` (the clone's, one a line) are removed and the
 * clone's keys added: an existing file (not a link) is rewritten in place and keeps its owner and
 * mode; a new one is owned by the user, mode 0600 in a 0700 directory. Nothing is done when there
 * are no keys, or no user is named and cloud-init made none.
 *
 * (Written with `@{` for the shell's `${`, which a template literal cannot hold.)
 */
export const WARM_IDENTITY_SCRIPT = String.raw`
PATH=/usr/sbin:/usr/bin:/sbin:/bin
mnt=
fail() { echo "VMKIT-WARM-IDENTITY $2" >&2; [ -z "$mnt" ] || { umount "$mnt" 2>/dev/null; rmdir "$mnt" 2>/dev/null; }; exit "$1"; }
# The random number generator before anything else: every clone wakes with the template's, and
# without a fresh seed they all give the same bytes. The host's bytes go into the kernel's pool;
# a kernel with the VM generation id driver reseeded itself at the resume (each clone has its own
# id), any other is made to reseed now (RNDRESEEDCRNG) by perl or python3 where the guest has one.
rng=none
[ -z "$VMKIT_ENTROPY" ] || printf "$VMKIT_ENTROPY" >/dev/urandom 2>/dev/null
unset VMKIT_ENTROPY
# (A device bound to the driver, such as QEMUVGID:00, not only the driver: a glob, no program.)
for d in /sys/bus/acpi/drivers/vmgenid/*:*; do
  [ ! -e "$d" ] || rng=vmgenid
done
if [ "$rng" = vmgenid ]; then
  :
elif command -v perl >/dev/null 2>&1 && perl -e 'open(my $f, ">", "/dev/urandom") or exit 1; ioctl($f, 0x5207, 0) or exit 1' 2>/dev/null; then
  rng=perl
elif command -v python3 >/dev/null 2>&1 && python3 -c 'import fcntl, os; fcntl.ioctl(os.open("/dev/urandom", os.O_WRONLY), 0x5207)' 2>/dev/null; then
  rng=python3
fi
# The host keys come first: sshd restarts with them while the rest runs.
keys=
for k in /etc/ssh/ssh_host_*_key; do
  [ -f "$k" ] || continue
  keys=1
  key=
  pub=
  case $k in
    */ssh_host_rsa_key) key=$VMKIT_HOST_KEY_rsa pub=$VMKIT_HOST_PUB_rsa ;;
    */ssh_host_ecdsa_key) key=$VMKIT_HOST_KEY_ecdsa pub=$VMKIT_HOST_PUB_ecdsa ;;
    */ssh_host_ed25519_key) key=$VMKIT_HOST_KEY_ed25519 pub=$VMKIT_HOST_PUB_ed25519 ;;
  esac
  if [ -n "$key" ] && [ -n "$pub" ]; then
    (umask 077 && printf '%s\n' "$key" >"$k") && printf '%s\n' "$pub" >"$k.pub" || fail 7 "cannot write $k"
  else
    t=@{k##*/ssh_host_}
    rm -f "$k" "$k.pub" && ssh-keygen -q -t "@{t%_key}" -N '' -f "$k" >/dev/null || fail 7 "cannot make $k"
  fi
done
# The keys leave the environment: nothing started below (the resume script) inherits them.
unset VMKIT_HOST_KEY_rsa VMKIT_HOST_KEY_ecdsa VMKIT_HOST_KEY_ed25519 VMKIT_HOST_PUB_rsa VMKIT_HOST_PUB_ecdsa VMKIT_HOST_PUB_ed25519
# sshd rereads its host keys on SIGHUP, not needed where it reads them for each connection (the
# template's OpenSSH before 9.8: never where an sshd-session program, 9.8's, is found). Only a pid
# file naming a running sshd is signalled, else systemd restarts it if it runs. The pid file is
# emptied first: sshd writes it again once it listens anew, which is waited for below.
for s in /usr/lib/openssh/sshd-session /usr/libexec/openssh/sshd-session /usr/libexec/sshd-session /usr/lib/ssh/sshd-session; do
  [ ! -e "$s" ] || VMKIT_SSHD_REREADS=
done
sshd=
if [ -n "$keys" ] && [ -z "$VMKIT_SSHD_REREADS" ]; then
  pid=
  comm=
  [ -f /run/sshd.pid ] && read -r pid </run/sshd.pid
  case $pid in '' | *[!0-9]*) pid= ;; esac
  [ -z "$pid" ] || read -r comm </proc/"$pid"/comm 2>/dev/null
  if [ "$comm" = sshd ]; then
    # (true, not the special built-in ":", whose failed redirection would end the script.)
    if true >/run/sshd.pid 2>/dev/null; then
      kill -HUP "$pid" 2>/dev/null && sshd=$pid || echo "$pid" >/run/sshd.pid
    else
      kill -HUP "$pid" 2>/dev/null
    fi
  elif command -v systemctl >/dev/null 2>&1; then
    systemctl try-restart ssh.service sshd.service >/dev/null 2>&1
  fi
fi
for r in /sys/block/sr*/device/rescan; do [ -e "$r" ] && echo 1 >"$r" 2>/dev/null; done
flushed=1
for d in /dev/sr*; do [ -b "$d" ] && { blockdev --flushbufs "$d" 2>/dev/null || flushed=; }; done
[ -n "$flushed" ] || { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; }
# The drive is mounted only when the identity is not given or a resume script reads the drive.
if [ -z "$VMKIT_IDENTITY" ] || [ -n "$VMKIT_RESUME" ]; then
  dev=
  tries=50
  while [ -z "$dev" ] && [ "$tries" -gt 0 ]; do
    for l in cidata CIDATA config-2 CONFIG-2; do
      dev=$(findfs "LABEL=$l" 2>/dev/null) && [ -n "$dev" ] && break
      dev=
    done
    [ -n "$dev" ] || { sleep 0.1; tries=$((tries - 1)); }
  done
  [ -n "$dev" ] || fail 3 "no config drive"
  m=/run/vmkit-warm.$$
  mkdir -m 700 "$m" || exit 4
  mount -o ro -t iso9660 "$dev" "$m" 2>/dev/null || mount -o ro "$dev" "$m" || { rmdir "$m"; exit 4; }
  mnt=$m
fi
nl='
'
cr=$(printf '\r')
# value: the value of a "key: value" or "key": "value" field, quotes, commas and blanks around it dropped.
value() {
  v=@{1#*:}
  while :; do
    case $v in
      [\ \"\']*) v=@{v#?} ;;
      *[\ \"\',]) v=@{v%?} ;;
      *) break ;;
    esac
  done
}
iid=
host=
lhost=
if [ -n "$VMKIT_IDENTITY" ]; then
  iid=$VMKIT_IDENTITY_INSTANCE
  host=$VMKIT_IDENTITY_HOSTNAME
elif [ -f "$mnt/meta-data" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    line=@{line%"$cr"}
    case $line in
      instance-id:*) [ -n "$iid" ] || { value "$line"; iid=$v; } ;;
      local-hostname:*) [ -n "$lhost" ] || { value "$line"; lhost=$v; } ;;
      hostname:*) [ -n "$host" ] || { value "$line"; host=$v; } ;;
    esac
  done <"$mnt/meta-data"
  [ -z "$lhost" ] || host=$lhost
elif [ -f "$mnt/openstack/latest/meta_data.json" ]; then
  json=
  while IFS= read -r line || [ -n "$line" ]; do json="$json $line"; done <"$mnt/openstack/latest/meta_data.json"
  rest=$json
  while [ -n "$rest" ]; do
    item=@{rest%%[,\{\}]*}
    case $rest in *[,\{\}]*) rest=@{rest#*[,\{\}]} ;; *) rest= ;; esac
    item=@{item#"@{item%%[! ]*}"}
    case $item in
      \"uuid\"*:*) [ -n "$iid" ] || { value "$item"; iid=$v; } ;;
      \"hostname\"*:*) [ -n "$host" ] || { value "$item"; host=$v; } ;;
    esac
  done
fi
case $host in *[!A-Za-z0-9.-]*) host=$(printf '%s' "$host" | tr -c 'A-Za-z0-9.-' '-') ;; esac
[ @{#host} -le 63 ] || host=$(printf '%s' "$host" | cut -c1-63)
if [ -n "$host" ]; then
  echo "$host" >/proc/sys/kernel/hostname 2>/dev/null || hostname "$host"
  [ -f /etc/hostname ] && echo "$host" >/etc/hostname
  if [ -f /etc/hosts ]; then
    hosts=
    found=
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in 127.0.1.1[[:space:]]*) line="127.0.1.1 $host" found=1 ;; esac
      hosts=$hosts$line$nl
    done </etc/hosts
    [ -z "$found" ] || printf '%s' "$hosts" >/etc/hosts
  fi
fi
if [ -f /etc/machine-id ] && [ -n "$VMKIT_MACHINE_ID" ]; then
  echo "$VMKIT_MACHINE_ID" >/etc/machine-id
elif [ -f /etc/machine-id ]; then
  tr -d '-' </proc/sys/kernel/random/uuid >/etc/machine-id.vmkit && mv /etc/machine-id.vmkit /etc/machine-id
fi
unset VMKIT_MACHINE_ID
user=$VMKIT_SSH_USER
if [ -z "$user" ] && [ -f /etc/sudoers.d/90-cloud-init-users ]; then
  while read -r name rest; do
    case $name in [A-Za-z_]*) case $rest in ALL=*) user=$name; break ;; esac ;; esac
  done </etc/sudoers.d/90-cloud-init-users
fi
if [ -n "$user" ] && [ -n "$VMKIT_SSH_KEYS$VMKIT_SSH_DROP_KEYS" ]; then
  ids=
  home=
  while IFS=: read -r name x uid gid gecos dir shell; do
    [ "$name" = "$user" ] && { ids=$uid:$gid; home=$dir; break; }
  done </etc/passwd
  [ -n "$ids" ] && [ -d "$home" ] || fail 5 "no user $user for the SSH keys"
  ak=$home/.ssh/authorized_keys
  # Links are refused: the script runs as root and would write or chown through them.
  [ ! -L "$home/.ssh" ] && [ ! -L "$ak" ] || fail 6 "$ak or its folder is a link"
  # blob: the key material of an authorised-key line (the word after its type), empty when none.
  blob() {
    b=
    t=
    for w in $1; do
      [ -z "$t" ] || { b=$w; return; }
      case $w in ssh-* | ecdsa-* | sk-*) t=1 ;; esac
    done
  }
  # kept: the lines of the file that hold neither a key to drop nor one of the clone's.
  kept() {
    [ -f "$ak" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
      keep=1
      IFS=$nl
      for drop in $VMKIT_SSH_DROP_KEYS$nl$VMKIT_SSH_KEYS; do
        unset IFS
        blob "$drop"
        [ -z "$b" ] || case " $line " in *" $b "*) keep= ;; esac
      done
      unset IFS
      [ -z "$keep" ] || printf '%s\n' "$line"
    done <"$ak"
  }
  set -f
  lines=$(kept && printf '%s\n.' "$VMKIT_SSH_KEYS") || fail 6 "cannot read $ak"
  lines=@{lines%.}
  [ -n "$VMKIT_SSH_KEYS" ] || lines=@{lines%"$nl"}
  # An existing file is rewritten in place: it keeps its owner and mode, and no program is started.
  # Where that fails (a full disk) the file is written beside and moved, as a new one is.
  if ! { [ -f "$ak" ] && [ -d "$home/.ssh" ] && printf '%s' "$lines" >"$ak"; } 2>/dev/null; then
    [ -d "$home/.ssh" ] || mkdir -p "$home/.ssh" || fail 6 "cannot write $ak"
    rm -f "$ak.vmkit"
    (umask 077 && printf '%s' "$lines" >"$ak.vmkit") && mv "$ak.vmkit" "$ak" || fail 6 "cannot write $ak"
    chown -h "$ids" "$home/.ssh" "$ak" && chmod 700 "$home/.ssh" || fail 6 "cannot give $ak to $user"
  fi
  set +f
fi
# The clone is not handed over while its sshd is not listening: up to 10 s while it runs.
if [ -n "$sshd" ]; then
  n=200
  while [ ! -s /run/sshd.pid ] && [ -d /proc/"$sshd" ] && [ "$n" -gt 0 ]; do
    sleep 0.05
    n=$((n - 1))
  done
  if [ ! -s /run/sshd.pid ] && [ -d /proc/"$sshd" ]; then
    echo "$sshd" >/run/sshd.pid
    echo "VMKIT-WARM-IDENTITY sshd did not listen again within 10 s" >&2
  fi
fi
rc=0
if [ -n "$VMKIT_RESUME" ]; then
  VMKIT_INSTANCE_ID=$iid VMKIT_HOSTNAME=$host VMKIT_DRIVE=$mnt sh -c "$VMKIT_RESUME" || rc=$?
fi
[ -z "$mnt" ] || { umount "$mnt" && rmdir "$mnt"; }
# (On a line of its own, whatever the resume script printed last.)
echo
echo "VMKIT-WARM-IDENTITY instance-id=$iid hostname=$host rng=$rng"
exit $rc
`.replaceAll('@{', '${');

/** How long the identity reset may take before the node is given up. */
const RESET_TIMEOUT_MS = 60_000;
/** Pause between looks at the reset and probe scripts (each look is work for a one-vCPU guest's agent). */
const POLL_MS = 50;
/** How long {@link probeSsh} waits for its script. */
const PROBE_TIMEOUT_MS = 10_000;

/** What a clone's identity reset applies besides what its drive says. */
export interface WarmIdentityOptions {
  /** The spec's `warm.resumeScript`. */
  readonly resumeScript?: string;
  /** The login user whose `authorized_keys` get the keys (default: the user cloud-init made). */
  readonly sshUser?: string;
  /**
   * The clone's identity as its config drive holds it (the drive's instance id and hostname),
   * so that the guest need not mount the drive to read them; without it the script reads the drive.
   */
  readonly identity?: { readonly instanceId: string; readonly hostname?: string };
  /** The clone's keys to authorise (its drive's `public-keys`). */
  readonly sshKeys?: readonly string[];
  /** The template's keys to remove (authorised from the template's drive at its boot). */
  readonly dropSshKeys?: readonly string[];
  /**
   * The clone's SSH host keys, made on the host ({@link makeSshHostKeys}): written in place of the
   * guest's keys of these types (passed in the script's environment, which only root reads in the
   * guest, and unset before the resume script runs); a type the guest has and this lacks is made by `ssh-keygen` in the guest.
   */
  readonly hostKeys?: Readonly<Partial<Record<SshHostKeyType, SshKeyPair>>>;
  /**
   * The template's sshd reads host keys afresh for each connection ({@link SshProbe}): it is not
   * sent `SIGHUP`, so it never stops listening.
   */
  readonly sshdRereadsHostKeys?: boolean;
}

/** What {@link resetWarmIdentity} did. */
export interface WarmIdentityResult {
  /**
   * How the clone's random number generator was reseeded (`vmgenid`, `perl`, `python3`) or
   * `none`; absent when the agent does not capture output.
   */
  readonly rng?: string;
}

/**
 * `count` random bytes made here, none zero, as `printf` octal escapes (`\ooo`): what the
 * identity script writes to the clone's `/dev/urandom`.
 */
export function entropyEscapes(count: number): string {
  const bytes: number[] = [];
  while (bytes.length < count) bytes.push(...randomBytes(count).filter((b) => b !== 0));
  return bytes
    .slice(0, count)
    .map((b) => `\\${b.toString(8).padStart(3, '0')}`)
    .join('');
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
): Promise<WarmIdentityResult> {
  const env = [
    `VMKIT_ENTROPY=${entropyEscapes(64)}`,
    `VMKIT_MACHINE_ID=${randomBytes(16).toString('hex')}`,
    ...(options.identity
      ? [
          'VMKIT_IDENTITY=1',
          `VMKIT_IDENTITY_INSTANCE=${options.identity.instanceId}`,
          `VMKIT_IDENTITY_HOSTNAME=${options.identity.hostname ?? ''}`,
        ]
      : []),
    ...(options.resumeScript !== undefined ? [`VMKIT_RESUME=${options.resumeScript}`] : []),
    ...(options.sshUser !== undefined ? [`VMKIT_SSH_USER=${options.sshUser}`] : []),
    ...(options.sshdRereadsHostKeys ? ['VMKIT_SSHD_REREADS=1'] : []),
    ...(options.sshKeys?.length
      ? [`VMKIT_SSH_KEYS=${options.sshKeys.filter((k) => k.trim()).join('\n')}`]
      : []),
    ...(options.dropSshKeys?.length ? [`VMKIT_SSH_DROP_KEYS=${options.dropSshKeys.join('\n')}`] : []),
    ...Object.entries(options.hostKeys ?? {}).flatMap(([type, pair]) => [
      `VMKIT_HOST_KEY_${type}=${pair.privateKey.trimEnd()}`,
      `VMKIT_HOST_PUB_${type}=${pair.publicKey}`,
    ]),
  ];
  const pid = await agent.spawn(
    {
      path: '/bin/sh',
      args: ['-c', WARM_IDENTITY_SCRIPT],
      ...(env.length > 0 ? { env } : {}),
      captureOutput: agent.captureOutputBytes !== undefined,
    },
    signal ? { signal } : {},
  );
  const status = await waitForStatus(agent, pid, {
    ...(signal ? { signal } : {}),
    timeoutMs: RESET_TIMEOUT_MS,
    pauseMs: POLL_MS,
    timeoutError: {
      message: `warm clone ${node}: the identity reset took over ${RESET_TIMEOUT_MS} ms`,
      details: { node },
    },
  });
  if (status.exitCode === 0) {
    const rng = /VMKIT-WARM-IDENTITY .* rng=(\w+)$/m.exec(
      Buffer.from(status.stdout ?? []).toString('utf8'),
    )?.[1];
    return rng === undefined ? {} : { rng };
  }
  const stderr = status.stderr ? Buffer.from(status.stderr).toString('utf8').slice(-500) : '';
  throw new VmkitError(
    'PROVIDER',
    `warm clone ${node}: the identity reset exited with ${status.exitCode ?? `signal ${status.signal}`}${stderr ? `: ${stderr}` : ''}`,
    { details: { node } },
  );
}

/**
 * The script listing the SSH host key files a guest has, one path a line, then, when a running
 * `sshd` (`/run/sshd.pid`) executes itself again for each connection (no `-r` among the words
 * of its command line, which sshd replaces with its title, `sshd: /usr/sbin/sshd -D [listener] …`),
 * `sshd-version=` and the portable OpenSSH release its program holds (`OpenSSH_9.2p1`: the `p`
 * part tells it from the version patterns of sshd's own compatibility table, such as
 * `OpenSSH_3.0*`; OpenBSD's own sshd, which has no `p` part, is not placed and so is restarted).
 */
export const SSH_PROBE_SCRIPT = String.raw`
for k in /etc/ssh/ssh_host_*_key; do [ -f "$k" ] && echo "$k"; done
pid=
[ -f /run/sshd.pid ] && read -r pid </run/sshd.pid
case $pid in '' | *[!0-9]*) exit 0 ;; esac
comm=
read -r comm </proc/"$pid"/comm 2>/dev/null
[ "$comm" = sshd ] || exit 0
tr '\0 ' '\n\n' </proc/"$pid"/cmdline | grep -q -x -e '-[A-Za-z]*r[A-Za-z]*' && exit 0
v=$(grep -a -o 'OpenSSH_[0-9][0-9]*\.[0-9][0-9]*p[0-9][0-9]*' /proc/"$pid"/exe 2>/dev/null | head -n 1)
[ -z "$v" ] || echo "sshd-version=$v"
exit 0
`;

/** What {@link probeSsh} found in a running guest. */
export interface SshProbe {
  /** The SSH host key types (of {@link SshHostKeyType}) it has in `/etc/ssh`. */
  readonly hostKeyTypes: SshHostKeyType[];
  /**
   * Whether its running sshd reads the host keys afresh for each connection: OpenSSH before 9.8
   * executes itself again per connection (unless started with `-r`) and the new process loads
   * the keys from their files; from 9.8 the listener keeps them and hands them to `sshd-session`.
   */
  readonly sshdRereadsHostKeys: boolean;
}

/** Reads {@link SSH_PROBE_SCRIPT}'s output. */
export function parseSshProbe(text: string): SshProbe {
  const lines = text.split('\n');
  const version = lines
    .map((l) => /^sshd-version=OpenSSH_(\d{1,4})\.(\d{1,4})p\d{1,4}$/.exec(l))
    .find((m) => m !== null);
  const major = Number(version?.[1] ?? 0);
  const minor = Number(version?.[2] ?? 0);
  return {
    hostKeyTypes: HOST_KEY_TYPES.filter((t) => lines.includes(`/etc/ssh/ssh_host_${t}_key`)),
    sshdRereadsHostKeys: version !== undefined && (major < 9 || (major === 9 && minor < 8)),
  };
}

/**
 * What a running guest's SSH server is, read through its agent ({@link SSH_PROBE_SCRIPT}): a warm
 * template's, recorded with its state, so that each clone's host keys are made on the host for
 * exactly its key types (none for a guest without `sshd`), and its sshd is restarted only when it
 * would not read the new keys itself. `undefined` when the agent cannot say (no output capture, a
 * failed probe, over 10 s).
 */
export async function probeSsh(agent: GuestAgent, signal?: AbortSignal): Promise<SshProbe | undefined> {
  if (agent.captureOutputBytes === undefined) return undefined;
  try {
    const pid = await agent.spawn(
      { path: '/bin/sh', args: ['-c', SSH_PROBE_SCRIPT], captureOutput: true },
      signal ? { signal } : {},
    );
    const status = await waitForStatus(agent, pid, {
      ...(signal ? { signal } : {}),
      timeoutMs: PROBE_TIMEOUT_MS,
      pauseMs: POLL_MS,
    });
    if (status.exitCode !== 0) return undefined;
    return parseSshProbe(Buffer.from(status.stdout ?? new Uint8Array()).toString('utf8'));
  } catch (error) {
    if (signal?.aborted) throw error;
  }
  return undefined;
}

/** Every type {@link makeSshHostKeys} can make. */
const HOST_KEY_TYPES: readonly SshHostKeyType[] = ['rsa', 'ecdsa', 'ed25519'];
