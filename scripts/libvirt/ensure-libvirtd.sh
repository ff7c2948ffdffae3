#!/usr/bin/env bash
# Starts virtlogd and libvirtd by hand (no systemd) when they are not running, so that
# `qemu:///system` and `test+unix:///default` answer on /run/libvirt/libvirt-sock.
# Idempotent: safe to run twice, and a no-op when a daemon already answers. Needs root.
# QEMU runs as root with no security driver (see /work/shared/PLATFORM-NOTES.md) and TCG only.
set -euo pipefail

SOCKET=/run/libvirt/libvirt-sock
STATE_DIR=${VMKIT_LIBVIRT_STATE:-/run/vmkit}
QEMU_CONF=/etc/libvirt/qemu.conf

say() { printf '\033[1m[vmkit]\033[0m %s\n' "$*" >&2; }

# True when libvirtd answers an RPC on its socket (not merely when the socket file exists).
libvirtd_answers() {
  [[ -S "$SOCKET" ]] && timeout 10 virsh -q -c qemu:///system version >/dev/null 2>&1
}

# True when the pid in the file names a live process.
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Sets `key = value` in qemu.conf, replacing an existing setting of that key.
set_qemu_conf() {
  local key=$1 value=$2
  if grep -Eq "^[[:space:]]*${key}[[:space:]]*=" "$QEMU_CONF"; then
    sed -i -E "s|^[[:space:]]*${key}[[:space:]]*=.*|${key} = ${value}|" "$QEMU_CONF"
  else
    printf '%s = %s\n' "$key" "$value" >>"$QEMU_CONF"
  fi
}

if libvirtd_answers; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  say "libvirtd is not running and starting it needs root (or use qemu:///session)"
  exit 1
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

if ! pid_alive "$STATE_DIR/virtlogd.pid"; then
  say "starting virtlogd"
  /usr/sbin/virtlogd --daemon --pid-file "$STATE_DIR/virtlogd.pid"
fi
if ! pid_alive "$STATE_DIR/libvirtd.pid"; then
  # A stale socket from a killed daemon would make the wait below succeed too early.
  [[ -S "$SOCKET" ]] && rm -f "$SOCKET" "$SOCKET-ro" "$SOCKET-admin"
  say "starting libvirtd"
  /usr/sbin/libvirtd --daemon --pid-file "$STATE_DIR/libvirtd.pid"
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
