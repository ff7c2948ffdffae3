# Shared functions of the vmkit test guest (busybox ash). Sourced by /init and the
# mode scripts; all output goes to the console (ttyS0).

VMKIT_DRIVE_MNT=/mnt/drive

say() { echo "vmkit: $*"; }

# Logs a phase with the time since the kernel started.
stamp() { say "$* at $(cut -d' ' -f1 /proc/uptime) s"; }

# Value of kernel parameter $1 (e.g. vmkit.mode), or $2 when absent.
cmdline_get() {
  local word
  for word in $(cat /proc/cmdline); do
    case "$word" in "$1="*) echo "${word#*=}"; return 0 ;; esac
  done
  echo "$2"
}

# Powers the machine off now (after syncing and unmounting what it can).
vmkit_poweroff() {
  sync
  umount "$VMKIT_DRIVE_MNT" 2>/dev/null
  [ -n "${VMKIT_TARGET_MNT:-}" ] && umount "$VMKIT_TARGET_MNT" 2>/dev/null
  sync
  if [ -d /sys/firmware/acpi/tables ]; then
    poweroff -f
  else
    # Without ACPI the kernel can only halt; a reset ends a VM run with -no-reboot
    # (libvirt: <on_reboot>destroy</on_reboot>).
    say "no ACPI: rebooting instead of powering off"
    reboot -f
  fi
  sleep 5
  echo o >/proc/sysrq-trigger 2>/dev/null
  while :; do sleep 60; done
}

# Powers off after $1 seconds unless killed: a run that hangs still ends.
start_watchdog() {
  (sleep "$1"; echo "VMKIT-TIMEOUT after $1 s"; vmkit_poweroff) &
  VMKIT_WATCHDOG=$!
}

# Loads the modules listed in /etc/vmkit/modules (dependencies through modprobe).
load_modules() {
  local m
  while read -r m; do
    [ -n "$m" ] && { modprobe "$m" 2>/dev/null || say "module $m did not load"; }
  done </etc/vmkit/modules
}

# Waits up to $2 seconds for block device $1 to exist.
wait_for_block() {
  local tries=$(( $2 * 5 ))
  while [ ! -b "$1" ] && [ "$tries" -gt 0 ]; do sleep 0.2; tries=$((tries - 1)); done
  [ -b "$1" ]
}

# Finds the config drive by label, retrying for up to $1 seconds (devices appear
# asynchronously). Prints "<device> <label>" and succeeds, or fails.
find_config_drive() {
  local extra deadline label dev
  extra=$(cmdline_get vmkit.label "")
  deadline=$(( $(date +%s) + $1 ))
  while :; do
    for label in $extra cidata CIDATA config-2 CONFIG-2; do
      dev=$(findfs "LABEL=$label" 2>/dev/null) && [ -b "$dev" ] && { echo "$dev $label"; return 0; }
    done
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.5
  done
}

# Mounts device $1 read-only on $VMKIT_DRIVE_MNT as iso9660 or vfat; prints the type.
mount_config_drive() {
  local fs
  mkdir -p "$VMKIT_DRIVE_MNT"
  for fs in iso9660 vfat; do
    if mount -t "$fs" -o ro "$1" "$VMKIT_DRIVE_MNT" 2>/dev/null; then echo "$fs"; return 0; fi
  done
  return 1
}

# Writes file $1 as a JSON string literal (quotes included) to stdout.
json_string() {
  od -An -v -tu1 "$1" | awk -f /vmkit/json-escape.awk
}
