#!/usr/bin/env bash
# Boots the test guest in every mode with plain qemu-system-x86_64 (TCG) and checks
# the contract of test-guest/README.md. Prints a timing table at the end.
#   bash test-guest/selftest.sh            build if needed, then test
#   bash test-guest/selftest.sh --clean    rebuild from a clean state first
# Exit status 0 only when every check passed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
guest=${VMKIT_GUEST_DIR:-$repo/.vmkit/test-guest}
export VMKIT_GUEST_DIR=$guest

for tool in qemu-system-x86_64 qemu-img genisoimage mkfs.vfat mcopy mmd debugfs curl node; do
  command -v "$tool" >/dev/null 2>&1 || { echo "selftest: missing tool $tool" >&2; exit 1; }
done

if [[ "${1:-}" == --clean ]]; then
  rm -rf "$guest"
fi
t=$(date +%s.%N)
bash "$here/build.sh"
build_s=$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

work=$(mktemp -d "${TMPDIR:-/tmp}/vmkit-guest-selftest.XXXXXX")
qemu_pids=()
cleanup() {
  local p
  for p in "${qemu_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

passed=0 failed=0
timings=()
pass() { passed=$((passed + 1)); printf '  ok    %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$*"; }
check() { # description command...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
timing() { timings+=("$(printf '%-44s %6s s' "$1" "$2")"); }

# A free TCP port on 127.0.0.1.
free_port() {
  node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Boots the guest in the background: boot NAME APPEND [qemu args...]. Sets qpid, t0.
boot() {
  local name=$1 append=$2; shift 2
  t0=$(now)
  qemu-system-x86_64 -machine pc,accel=tcg -m 256 -nographic -no-reboot \
    -kernel "$guest/vmlinuz" -initrd "$guest/initrd.img" -append "console=ttyS0 panic=-1 $append" \
    -serial "file:$work/$name.log" -monitor "unix:$work/$name.mon,server,nowait" "$@" \
    </dev/null >"$work/$name.qemu.log" 2>&1 &
  qpid=$!
  qemu_pids+=("$qpid")
}

# Waits up to $3 s for a line matching regex $2 in log $1.
wait_line() {
  local deadline
  deadline=$(awk -v a="$(now)" -v s="$3" 'BEGIN { printf "%d", a + s }')
  while (($(date +%s) < deadline)); do
    grep -aqE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Waits up to $2 s for QEMU process $1 to exit (the guest powered off); kills it otherwise.
wait_exit() {
  local deadline=$(($(date +%s) + $2))
  while kill -0 "$1" 2>/dev/null; do
    if (($(date +%s) >= deadline)); then
      kill "$1" 2>/dev/null
      wait "$1" 2>/dev/null || true
      return 1
    fi
    sleep 0.1
  done
  wait "$1" 2>/dev/null || true
}

# Sends one human-monitor command to a running guest.
monitor() {
  node -e 'const s = require("node:net").connect(process.argv[1], () => { s.write(process.argv[2] + "\n"); setTimeout(() => s.end(), 300); }); s.on("data", () => {});' "$1" "$2"
}

show_log() { echo "  --- $1 (last lines) ---"; grep -av '^\[' "$1" | tail -n 15 | sed 's/^/  | /'; }

# The bytes print mode must emit for a drive whose files are in directory $3.
expected_print() { # label fs dir [base64]
  local dir=$3 p
  echo "VMKIT-DRIVE-BEGIN label=$1 fs=$2"
  (cd "$dir" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) | while IFS= read -r p; do
    echo "VMKIT-FILE $p $(stat -c %s "$dir/$p")"
    if [[ "${4:-}" == base64 ]]; then base64 "$dir/$p"; else cat "$dir/$p"; echo; fi
    echo "VMKIT-FILE-END"
  done
  echo "VMKIT-DRIVE-END"
}
printed_block() { sed -n '/^VMKIT-DRIVE-BEGIN/,/^VMKIT-DRIVE-END$/p' "$1"; }

# ---------------------------------------------------------------- fixtures
mkdir -p "$work/nocloud/nested/deeper" "$work/config2/openstack/latest" "$work/other" "$work/custom"
printf 'instance-id: iid-selftest-0001\nlocal-hostname: node-alpha\n' >"$work/nocloud/meta-data"
# User data with quotes, backslashes, a tab, CR, a control byte, UTF-8, no final newline.
printf '#cloud-config\nmessage: "say \\"hi\\" C:\\\\path"\r\ntab:\there\x01 caf\xc3\xa9 \xf0\x9f\x9a\x80 end' \
  >"$work/nocloud/user-data"
printf 'deep file\n' >"$work/nocloud/nested/deeper/file.txt"
printf 'no newline at end' >"$work/nocloud/nested/b.txt"
: >"$work/nocloud/empty"
printf '{"uuid": "7d3c0a3e-0000-4000-8000-c0ffee000002", "hostname": "node-beta.example", "name": "beta"}' \
  >"$work/config2/openstack/latest/meta_data.json"
printf '#!/bin/sh\necho "config-2 user data"\n' >"$work/config2/openstack/latest/user_data"
printf 'not a config drive\n' >"$work/other/readme"
printf 'custom label\n' >"$work/custom/hello.txt"

genisoimage -quiet -V cidata -J -r -o "$work/nocloud.iso" "$work/nocloud"
genisoimage -quiet -V config-2 -J -r -o "$work/config2.iso" "$work/config2"
genisoimage -quiet -V other -J -r -o "$work/other.iso" "$work/other"
genisoimage -quiet -V vmkit-custom -J -r -o "$work/custom.iso" "$work/custom"
mkfs.vfat -n CIDATA -C "$work/nocloud.vfat" 2048 >/dev/null
mmd -i "$work/nocloud.vfat" ::nested ::nested/deeper
for f in meta-data user-data empty nested/b.txt nested/deeper/file.txt; do
  mcopy -i "$work/nocloud.vfat" "$work/nocloud/$f" "::$f"
done

echo "test guest: $guest (kernel $(sed -n 's/.*"kernelVersion": "\([^"]*\)".*/\1/p' "$guest/manifest.json"))"

# ---------------------------------------------------------------- print mode
print_case() { # name label fs dir encoding -- qemu args
  local name=$1 label=$2 fs=$3 dir=$4 enc=$5 log
  shift 6
  log="$work/$name.log"
  echo "print mode: $name"
  boot "$name" "vmkit.mode=print vmkit.encoding=$enc $extra_append" "$@"
  if wait_exit "$qpid" 60; then pass "$name: powered off by itself ($(since "$t0") s)"; else fail "$name: still running after 60 s"; fi
  timing "print $name: boot to power-off" "$(since "$t0")"
  if [[ "$enc" == base64 ]]; then
    expected_print "$label" "$fs" "$dir" base64 >"$work/$name.expected"
  else
    expected_print "$label" "$fs" "$dir" >"$work/$name.expected"
  fi
  printed_block "$log" >"$work/$name.actual"
  if cmp -s "$work/$name.expected" "$work/$name.actual"; then
    pass "$name: printed every file, byte for byte ($(grep -ac '^VMKIT-FILE ' "$work/$name.actual") files)"
  else
    fail "$name: printed block differs"; diff -a "$work/$name.expected" "$work/$name.actual" | head -n 20 || true; show_log "$log"
  fi
}
extra_append=""
print_case print-iso cidata iso9660 "$work/nocloud" raw -- -net none -cdrom "$work/nocloud.iso"
print_case print-vfat CIDATA vfat "$work/nocloud" base64 -- -net none \
  -drive "file=$work/nocloud.vfat,format=raw,if=virtio,readonly=on"
extra_append="vmkit.label=vmkit-custom"
print_case print-label vmkit-custom iso9660 "$work/custom" raw -- -net none -cdrom "$work/custom.iso"
extra_append=""

echo "print mode: no config drive"
boot print-none "vmkit.mode=print" -net none -cdrom "$work/other.iso"
if wait_exit "$qpid" 60; then pass "print-none: powered off by itself ($(since "$t0") s)"; else fail "print-none: still running after 60 s"; fi
timing "print without drive: boot to power-off" "$(since "$t0")"
check "print-none: VMKIT-NO-DRIVE" grep -aqx 'VMKIT-NO-DRIVE' "$work/print-none.log"

# ---------------------------------------------------------------- install mode
echo "install mode"
qemu-img create -q -f qcow2 "$work/master.qcow2" 64M
boot install "vmkit.mode=install root=/dev/vda" -net none -drive "file=$work/master.qcow2,format=qcow2,if=virtio"
if wait_exit "$qpid" 120; then pass "install: powered off by itself ($(since "$t0") s)"; else fail "install: still running after 120 s"; fi
timing "install: boot to power-off" "$(since "$t0")"
if grep -aqx 'VMKIT-INSTALL-DONE' "$work/install.log"; then pass "install: VMKIT-INSTALL-DONE"; else fail "install: no VMKIT-INSTALL-DONE"; show_log "$work/install.log"; fi
qemu-img convert -O raw "$work/master.qcow2" "$work/master.raw"
check "install: master has /etc/vmkit-master with installed-at" \
  bash -c "debugfs -R 'cat /etc/vmkit-master' '$work/master.raw' 2>/dev/null | grep -q '^installed-at=20'"
check "install: master has busybox and the run-stage init" \
  bash -c "debugfs -R 'stat /bin/busybox' '$work/master.raw' 2>/dev/null | grep -q 'Type: regular' &&
           debugfs -R 'stat /vmkit/root-init.sh' '$work/master.raw' 2>/dev/null | grep -q 'Type: regular'"
master_sha=$(sha256sum "$work/master.qcow2" | cut -d' ' -f1)

echo "install mode: no disk"
boot install-nodisk "vmkit.mode=install root=/dev/vda" -net none
if wait_exit "$qpid" 60; then pass "install-nodisk: powered off by itself"; else fail "install-nodisk: still running after 60 s"; fi
check "install-nodisk: VMKIT-INSTALL-FAILED no-disk" grep -aq '^VMKIT-INSTALL-FAILED no-disk' "$work/install-nodisk.log"

# ---------------------------------------------------------------- run mode
# run_case NAME ISO IID HOSTNAME USERDATA-FILE APPEND
run_case() {
  local name=$1 iso=$2 iid=$3 hn=$4 ud=$5 append=$6 port log first=""
  log="$work/$name.log"
  port=$(free_port)
  echo "run mode: $name (port $port)"
  qemu-img create -q -f qcow2 -b "$work/master.qcow2" -F qcow2 "$work/$name.qcow2"
  boot "$name" "vmkit.mode=run $append" -drive "file=$work/$name.qcow2,format=qcow2,if=virtio" -cdrom "$iso" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:80" -device virtio-net-pci,netdev=n0,romfile=
  if wait_line "$log" '^VMKIT-READY ip=' 90; then
    timing "run $name: boot to VMKIT-READY" "$(since "$t0")"
    pass "$name: $(grep -a '^VMKIT-READY' "$log" | tr -d '\r')"
    check "$name: VMKIT-DRIVE label=$(basename "$iso" .iso | sed 's/nocloud/cidata/;s/config2/config-2/') fs=iso9660" \
      grep -aqx "VMKIT-DRIVE label=$(basename "$iso" .iso | sed 's/nocloud/cidata/;s/config2/config-2/') fs=iso9660" "$log"
  else
    fail "$name: no VMKIT-READY within 90 s"; show_log "$log"; kill "$qpid" 2>/dev/null; return
  fi
  for _ in $(seq 1 100); do
    curl -fsS -m 2 -o "$work/$name.json" "http://127.0.0.1:$port/" 2>/dev/null && { first=$(since "$t0"); break; }
    sleep 0.1
  done
  [[ -n "$first" ]] && timing "run $name: boot to first HTTP answer" "$first"
  check "$name: GET / is JSON with instanceId, hostname and userData from the drive" \
    node -e '
      const fs = require("node:fs");
      const [json, iid, hn, ud] = process.argv.slice(1);
      const doc = JSON.parse(fs.readFileSync(json, "utf8"));
      const want = { instanceId: iid, hostname: hn, userData: fs.readFileSync(ud, "utf8") };
      for (const k of Object.keys(want)) if (doc[k] !== want[k]) {
        console.error(`${k}: got ${JSON.stringify(doc[k])}, want ${JSON.stringify(want[k])}`); process.exit(1);
      }' "$work/$name.json" "$iid" "$hn" "$ud"
  curl -fsS -m 5 -o "$work/$name.ud" "http://127.0.0.1:$port/user-data" || true
  check "$name: GET /user-data returns the exact bytes" cmp -s "$work/$name.ud" "$ud"
  check "$name: GET /instance-id" test "$(curl -fsS -m 5 "http://127.0.0.1:$port/instance-id")" = "$iid"
  check "$name: GET /hostname" test "$(curl -fsS -m 5 "http://127.0.0.1:$port/hostname")" = "$hn"
  # ACPI power button, as `virsh shutdown` sends it.
  local t1
  t1=$(now)
  monitor "$work/$name.mon" system_powerdown
  if wait_exit "$qpid" 30; then
    local took
    took=$(since "$t1")
    pass "$name: ACPI power button powered it off ($took s)"
    timing "run $name: power button to exit" "$took"
  else
    fail "$name: ignored the ACPI power button for 30 s"; show_log "$log"
  fi
  check "$name: VMKIT-POWER-BUTTON then VMKIT-SHUTDOWN" \
    bash -c "grep -aqx VMKIT-POWER-BUTTON '$log' && grep -aqx VMKIT-SHUTDOWN '$log'"
  qemu-img convert -O raw "$work/$name.qcow2" "$work/$name.raw"
  check "$name: overlay holds /var/lib/vmkit/booted-$iid" \
    bash -c "debugfs -R 'ls /var/lib/vmkit' '$work/$name.raw' 2>/dev/null | grep -q 'booted-$iid'"
  rm -f "$work/$name.raw"
}
run_case node-nocloud "$work/nocloud.iso" iid-selftest-0001 node-alpha "$work/nocloud/user-data" "root=/dev/vda"
run_case node-config2 "$work/config2.iso" 7d3c0a3e-0000-4000-8000-c0ffee000002 node-beta.example \
  "$work/config2/openstack/latest/user_data" "root=LABEL=vmkit-root"

check "master qcow2 unchanged after the nodes ran (sha256)" \
  test "$(sha256sum "$work/master.qcow2" | cut -d' ' -f1)" = "$master_sha"
qemu-img convert -O raw "$work/master.qcow2" "$work/master.raw"
check "master has no boot marker" \
  bash -c "! debugfs -R 'ls /var/lib/vmkit' '$work/master.raw' 2>/dev/null | grep -q booted-"

# ---------------------------------------------------------------- post-install boot
# Run mode with meta-data `vmkit-post-install: true` and a `#!` user-data runs the script on
# the root disk (here an overlay of the master), then powers off; a node booted from that disk
# serves /etc/vmkit-post/* under /post/.
echo "run mode: post-install boot"
mkdir -p "$work/post"
printf 'instance-id: vmkit-post-selftest\nvmkit-post-install: true\n' >"$work/post/meta-data"
printf '#!/bin/sh\nmkdir -p /etc/vmkit-post\necho "hello from post-install" >/etc/vmkit-post/greeting\nexit 3\n' \
  >"$work/post/user-data"
genisoimage -quiet -V cidata -J -r -o "$work/post.iso" "$work/post"
qemu-img create -q -f qcow2 -b "$work/master.qcow2" -F qcow2 "$work/post.qcow2"
boot post "vmkit.mode=run root=/dev/vda" -drive "file=$work/post.qcow2,format=qcow2,if=virtio" \
  -cdrom "$work/post.iso" -netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile=
if wait_exit "$qpid" 90; then pass "post: powered off by itself ($(since "$t0") s)"; else fail "post: still running after 90 s"; show_log "$work/post.log"; fi
timing "post-install boot: boot to power-off" "$(since "$t0")"
check "post: VMKIT-POST-INSTALL-BEGIN, then DONE with the script's exit status (rc=3)" \
  bash -c "grep -aqx VMKIT-POST-INSTALL-BEGIN '$work/post.log' && grep -aqx 'VMKIT-POST-INSTALL-DONE rc=3' '$work/post.log'"
check "post: no VMKIT-READY (no HTTP server in a post-install boot)" bash -c "! grep -aq '^VMKIT-READY' '$work/post.log'"
qemu-img convert -O raw "$work/post.qcow2" "$work/post.raw"
check "post: the script's file landed on the disk" \
  bash -c "debugfs -R 'cat /etc/vmkit-post/greeting' '$work/post.raw' 2>/dev/null | grep -qx 'hello from post-install'"
check "post: no boot marker written to the disk" \
  bash -c "! debugfs -R 'ls /var/lib/vmkit' '$work/post.raw' 2>/dev/null | grep -q booted-"
rm -f "$work/post.raw"
port=$(free_port)
qemu-img create -q -f qcow2 -b "$work/post.qcow2" -F qcow2 "$work/post-node.qcow2"
boot post-node "vmkit.mode=run root=/dev/vda" -drive "file=$work/post-node.qcow2,format=qcow2,if=virtio" \
  -cdrom "$work/nocloud.iso" -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:80" -device virtio-net-pci,netdev=n0,romfile=
if wait_line "$work/post-node.log" '^VMKIT-READY ip=' 90; then
  check "post-node: GET /post/greeting serves the post-install file" \
    test "$(curl -fsS -m 5 "http://127.0.0.1:$port/post/greeting")" = "hello from post-install"
else
  fail "post-node: no VMKIT-READY within 90 s"; show_log "$work/post-node.log"
fi
kill "$qpid" 2>/dev/null || true
wait "$qpid" 2>/dev/null || true

echo "run mode: disk without an installed guest"
qemu-img create -q -f qcow2 "$work/blank.qcow2" 16M
boot run-blank "vmkit.mode=run root=/dev/vda" -net none -drive "file=$work/blank.qcow2,format=qcow2,if=virtio"
if wait_exit "$qpid" 60; then pass "run-blank: powered off by itself"; else fail "run-blank: still running after 60 s"; fi
check "run-blank: VMKIT-RUN-FAILED" grep -aq '^VMKIT-RUN-FAILED' "$work/run-blank.log"

# ---------------------------------------------------------------- summary
echo
echo "timings (TCG, $(nproc) cores):"
printf '  %-44s %6s s\n' "build.sh" "$build_s"
printf '  %s\n' "${timings[@]}"
echo "sizes: vmlinuz $(stat -c %s "$guest/vmlinuz") B, initrd.img $(stat -c %s "$guest/initrd.img") B"
echo "checks: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
