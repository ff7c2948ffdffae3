#!/bin/bash
# Times the real Debian installer (debian-installer-12-netboot-amd64, the bench's preseed served
# over HTTP, `early_command` prints a marker and powers off) one way, for hunting where an
# installer's time goes under TCG (docs/boot-iso.md, "vmkit against Packer"):
#
#   scripts/installer-speed.sh qemu NAME [QEMU ARGS...]
#       bare QEMU: `-machine pc,accel=tcg -m 1024 -smp 2` (or $BASE) plus the kernel, the serial
#       console to a file, `-display none` and the given arguments; in a CPU cgroup beside
#       libvirt's domains' (/sys/fs/cgroup/cpu/machine, weight 1024) unless NOCG=1.
#   scripts/installer-speed.sh libvirt NAME [SED-EXPR [HOOK]] [lean|full via $DEVICES]
#       vmkit's installer domain XML (scripts/installer-speed-xml.ts) in pool `vmkit`, edited
#       by SED-EXPR, started with `virsh create`; HOOK (a shell command, $DOM set) runs once
#       the domain started (e.g. to move its threads between cgroups).
#
# Prints: wall seconds until QEMU ended, the guest kernel's clock at its power-off, seconds
# until the preseed was fetched, and the QEMU process's CPU seconds (user/system). Run two at
# once (`a & b; wait`) to compare two variants under the same load: on a shared machine one run
# alone measures the load of its minute. Names: $VMKIT_SPEED_PREFIX (default `spd`) + NAME.
set -euo pipefail
mode=${1:?qemu or libvirt}; name=${2:?NAME}; shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)
D=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64
tag=${VMKIT_SPEED_PREFIX:-spd}-$name-$$
w=$(mktemp -d /tmp/installer-speed-$tag.XXXX); mkdir -p "$w/http"
cat > "$w/http/preseed.cfg" <<'PRESEED'
d-i debian-installer/locale string en_US
d-i keyboard-configuration/xkb-keymap select us
d-i preseed/early_command string echo "VMKIT-PRESEED-READ-$((6*7))" > /dev/ttyS0; sync; poweroff -f
PRESEED
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The answer server: logs the seconds since the start at each request.
cat > "$w/serve.py" <<'PY'
import http.server, os, sys, time
start = float(sys.argv[2]); log = sys.argv[4]
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *a):
        with open(log, 'a') as f: f.write('%.1f %s\n' % (time.time() - start, fmt % a))
os.chdir(sys.argv[3])
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
# CPU seconds of a process (all threads), written each second while it lives.
cpuwatch() {
  local tck; tck=$(getconf CLK_TCK)
  while [ -d "/proc/$1" ]; do
    awk -v k="$tck" '{printf "%.1f (user %.1f, system %.1f)\n", ($14+$15)/k, $14/k, $15/k}' "/proc/$1/stat" > "$w/cpu.new" 2>/dev/null && mv "$w/cpu.new" "$w/cpu"
    sleep 1
  done
}
load=$(cut -d' ' -f1 /proc/loadavg)
cmdline="auto=true priority=critical console=ttyS0 url=http://10.0.2.2:$port/preseed.cfg hw-detect/load_firmware=false"
if [ "$mode" = libvirt ]; then
  sed_expr=${1:-}; hook=${2:-}
  dom=$tag; vol=$dom.qcow2; log=/var/lib/libvirt/vmkit/$dom.log
  virsh -q -c qemu:///system vol-create-as vmkit "$vol" 1G --format qcow2 >/dev/null
  (cd "$repo" && npx tsx scripts/installer-speed-xml.ts "$dom" "$port" "$log" "$vol" "${DEVICES:-lean}") > "$w/dom.xml"
  [ -n "$sed_expr" ] && sed -i "$sed_expr" "$w/dom.xml"
fi
start=$(date +%s.%N)
python3 "$w/serve.py" "$port" "$start" "$w/http" "$w/http.log" & server=$!
trap 'kill $server 2>/dev/null || true' EXIT
if [ "$mode" = libvirt ]; then
  virsh -q -c qemu:///system create "$w/dom.xml" >/dev/null
  qemu=$(cat "/var/run/libvirt/qemu/$dom.pid"); cpuwatch "$qemu" &
  [ -n "$hook" ] && DOM=$dom bash -c "$hook"
  while virsh -q -c qemu:///system domstate "$dom" >/dev/null 2>&1; do sleep 0.2; done
  end=$(date +%s.%N)
  cp "$log" "$w/console.log"
  # A pool refresh meanwhile lists the log as a volume: delete it as one, else as a file.
  virsh -q -c qemu:///system vol-delete --pool vmkit "$dom.log" >/dev/null 2>&1 || rm -f "$log"
  virsh -q -c qemu:///system vol-delete --pool vmkit "$vol" >/dev/null
else
  cg=/sys/fs/cgroup/cpu
  if [ -z "${NOCG:-}" ] && [ -d /sys/fs/cgroup/cpu/machine ]; then
    cg=/sys/fs/cgroup/cpu/machine/installer-speed-$tag; mkdir "$cg"; echo 1024 > "$cg/cpu.shares"
  fi
  qemu-img create -q -f qcow2 "$w/disk.qcow2" 1G
  # shellcheck disable=SC2086
  sh -c 'echo $$ > "$0/cgroup.procs"; shift; exec "$@"' "$cg" x qemu-system-x86_64 ${BASE:--machine pc,accel=tcg -m 1024 -smp 2} \
    -kernel $D/linux -initrd $D/initrd.gz -append "$cmdline" \
    -serial "file:$w/console.log" -display none "$@" & qemu=$!
  cpuwatch "$qemu" &
  wait "$qemu"
  end=$(date +%s.%N)
  [ "$cg" != /sys/fs/cgroup/cpu ] && rmdir "$cg"
fi
sleep 1
guest=$(grep -ao '\[ *[0-9.]*\] reboot: Power down' "$w/console.log" | grep -o '[0-9.]*' | head -1 || true)
marker=$(grep -ac VMKIT-PRESEED-READ-42 "$w/console.log" || true)
echo "$name: wall $(echo "$end - $start" | bc | cut -c1-6) s, guest clock ${guest:-?} s, preseed fetched at $(cut -d' ' -f1 "$w/http.log" 2>/dev/null | head -1) s, QEMU CPU $(cat "$w/cpu") s, load $load, marker ${marker}x"
rm -rf "$w"
