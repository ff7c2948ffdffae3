#!/usr/bin/env bash
# Starts virtlogd and libvirtd by hand (no systemd) when they are not running, so that
# `qemu:///system` and `test+unix:///default` answer on /run/libvirt/libvirt-sock.
# Idempotent: safe to run twice, and a no-op when a daemon already answers (but see the reaper
# below). Needs root. QEMU runs as root with no security driver (see
# /work/shared/PLATFORM-NOTES.md) and TCG only.
#
# The reaper: libvirtd starts each QEMU with a double fork, so the QEMU process is an orphan that
# PID 1 reaps when it exits. Where PID 1 is not a service manager (this machine's init, a
# container's) that happens late, and libvirt waits for it before a domain is shut off: here
# every destroy or guest power-off took 1.2-2.2 s more (`virsh destroy` of an idle domain 1.2-1.6
# s, 0.23 s with a prompt reaper). So libvirtd runs in the foreground under `tini -s`, a child
# subreaper that reaps every orphan below it at once; a daemon this script started before without
# it is restarted under it while it is idle (no domain runs, no client is connected).
set -euo pipefail

SOCKET=/run/libvirt/libvirt-sock
STATE_DIR=${VMKIT_LIBVIRT_STATE:-/run/vmkit}
QEMU_CONF=/etc/libvirt/qemu.conf

say() { printf '\033[1m[vmkit]\033[0m %s\n' "$*" >&2; }

# True when libvirtd answers an RPC on its socket (not merely when the socket file exists).
libvirtd_answers() {
  [[ -S "$SOCKET" ]] && timeout 10 virsh -q -c qemu:///system version >/dev/null 2>&1
}

# The pid in pid file $2 when it names a live process called $1 (a stale file's pid may have been
# reused by another program), else nothing.
daemon_pid() {
  local pid
  pid=$(cat "$2" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  [[ $(ps -o comm= -p "$pid" 2>/dev/null) == "$1" ]] && echo "$pid"
  return 0
}

# Closes every file descriptor of this shell but 0-2; run in the subshell that starts a daemon, so
# that it keeps neither this script's lock nor a pipe of whatever ran the script.
close_fds() {
  local fd
  for fd in /proc/self/fd/*; do
    fd=${fd##*/}
    if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec ${fd}>&-" 2>/dev/null || true; fi
  done
  return 0
}

# The name of the process libvirtd runs under (its parent), or nothing.
reaper_of() { ps -o comm= -p "$(ps -o ppid= -p "$1" | tr -d ' ')" 2>/dev/null || true; }

# True when no domain runs and no client is connected to libvirtd, so a restart drops nothing (a
# test lane's upload, say); when either cannot be told, it is not idle.
libvirtd_idle() {
  local domains clients
  domains=$(timeout 10 virsh -q -c qemu:///system list --name 2>/dev/null) || return 1
  [[ -z ${domains//[[:space:]]/} ]] || return 1
  clients=$(timeout 10 virt-admin srv-clients-list libvirtd 2>/dev/null) || return 1
  # Two lines of header, then one line a client.
  [[ -z $(printf '%s\n' "$clients" | tail -n +3 | tr -d '[:space:]') ]]
}

# Sets `key = value` in qemu.conf, replacing an existing setting of that key.
set_qemu_conf() {
  local key=$1 value=$2
  if grep -Eq "^[[:space:]]*${key}[[:space:]]*=" "$QEMU_CONF"; then
    sed -i -E "s|^[[:space:]]*${key}[[:space:]]*=.*|${key} = ${value}|" "$QEMU_CONF"
  else
    printf '%s = %s\n' "$key" "$value" >>"$QEMU_CONF"
  fi
}

if libvirtd_answers && [[ $(id -u) -ne 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  say "libvirtd is not running and starting it needs root (or use qemu:///session)"
  exit 1
fi
# One run at a time (the test lanes may call this at once); the daemons started below close it.
mkdir -p "$STATE_DIR"
exec 9>"$STATE_DIR/ensure-libvirtd.lock"
flock 9

if libvirtd_answers; then
  # Ours (its pid file), not under the reaper, and idle: restart it under the reaper.
  pid=$(daemon_pid libvirtd "$STATE_DIR/libvirtd.pid")
  if [[ -z $pid || $(reaper_of "$pid") == tini ]] || ! command -v tini >/dev/null 2>&1 || ! libvirtd_idle; then
    exit 0
  fi
  say "restarting libvirtd under tini (a prompt reaper of its QEMU processes; it is idle)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "libvirtd (pid $pid) did not stop within 10 s of SIGTERM; left as it is"
    exit 1
  fi
fi
for cmd in libvirtd virtlogd virsh; do
  command -v "$cmd" >/dev/null 2>&1 || [[ -x /usr/sbin/$cmd ]] || { say "missing command: $cmd"; exit 1; }
done

mkdir -p /var/log/libvirt/qemu /var/lib/libvirt /run/libvirt /etc/libvirt "$STATE_DIR"
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
id libvirt-qemu >/dev/null 2>&1 || useradd -r -g libvirt-qemu -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
touch "$QEMU_CONF"
set_qemu_conf user '"root"'
set_qemu_conf group '"root"'
set_qemu_conf security_driver '"none"'
# No "devices" controller: on this kernel's cgroup2 hierarchy libvirt fences devices with a BPF
# program per domain, whose load failed at random under load ("failed to load cgroup BPF prog:
# Resource temporarily unavailable"), failing the domain's start. With no security driver there is
# no device confinement to keep anyway.
set_qemu_conf cgroup_controllers '[ "cpu", "cpuacct", "cpuset", "memory", "blkio" ]'

if [[ -z $(daemon_pid virtlogd "$STATE_DIR/virtlogd.pid") ]]; then
  say "starting virtlogd"
  (close_fds && exec /usr/sbin/virtlogd --daemon --pid-file "$STATE_DIR/virtlogd.pid")
fi
if [[ -z $(daemon_pid libvirtd "$STATE_DIR/libvirtd.pid") ]]; then
  # A stale socket from a killed daemon would make the wait below succeed too early.
  [[ -S "$SOCKET" ]] && rm -f "$SOCKET" "$SOCKET-ro" "$SOCKET-admin"
  if command -v tini >/dev/null 2>&1; then
    say "starting libvirtd (under tini, which reaps its QEMU processes)"
    (close_fds && exec setsid tini -s -- /usr/sbin/libvirtd --pid-file "$STATE_DIR/libvirtd.pid" \
      </dev/null >>/var/log/libvirt/libvirtd-console.log 2>&1) &
  else
    say "starting libvirtd (no tini: each domain's stop waits for PID 1 to reap its QEMU)"
    (close_fds && exec /usr/sbin/libvirtd --daemon --pid-file "$STATE_DIR/libvirtd.pid")
  fi
fi

for _ in $(seq 1 150); do
  if libvirtd_answers; then
    say "libvirtd is up ($SOCKET)"
    exit 0
  fi
  sleep 0.2
done
say "libvirtd did not answer on $SOCKET within 30 s; see /var/log/libvirt"
exit 1
