#!/bin/sh
# vmkit.mode=run, root stage: PID 1 on the installed root disk after switch_root.
# Brings up eth0, reads the config drive, sets the hostname, writes the boot marker,
# serves the instance data over HTTP on port 80 and waits for a shutdown request.
# A post-install boot (NoCloud meta-data `vmkit-post-install: true` and a `#!` user-data)
# instead runs the user data as root on this root disk, then syncs and powers off.

export PATH=/bin:/sbin:/usr/bin:/usr/sbin
. /vmkit/lib.sh
[ "$(cmdline_get vmkit.debug 0)" = 1 ] && set -x

# Clean shutdown: the ACPI power button (acpid -> SIGUSR2), `poweroff`, SIGTERM.
shutdown_node() {
  echo "VMKIT-SHUTDOWN"
  kill $(cat /run/vmkit/httpd.pid /run/vmkit/acpid.pid /run/vmkit/qemu-ga.pid 2>/dev/null) 2>/dev/null
  umount "$VMKIT_DRIVE_MNT" "$www"/data/* 2>/dev/null
  sync
  mount -o remount,ro / 2>/dev/null
  vmkit_poweroff
}
trap shutdown_node USR2 TERM INT

# Post-install boot: the root is the master disk itself, so the script's changes land in the
# master. Nothing else is written to the disk (no hostname file, no boot marker).
post_install() {
  echo "VMKIT-POST-INSTALL-BEGIN"
  cp "$www/user-data" /run/vmkit/post-install && chmod 0700 /run/vmkit/post-install
  (cd / && HOME=/root VMKIT_POST_INSTALL_POWEROFF=0 /run/vmkit/post-install </dev/null 2>&1)
  echo "VMKIT-POST-INSTALL-DONE rc=$?"
  kill $(cat /run/vmkit/acpid.pid 2>/dev/null) 2>/dev/null
  sync
  mount -o remount,ro / 2>/dev/null
  vmkit_poweroff
}

stamp "root stage"
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run/vmkit /var/lib/vmkit
www=/run/vmkit/www
mkdir -p "$www"
# The kernel's random id of this boot, served as /boot-id: tests see a reboot by its change.
cat /proc/sys/kernel/random/boot_id >"$www/boot-id"

# ACPI power button -> /etc/acpi/PWRF/00000080 -> SIGUSR2 to this process. With
# vmkit.acpi=ignore on the command line the button is ignored (a guest that will not shut down).
if [ "$(cmdline_get vmkit.acpi on)" = ignore ]; then
  say "ACPI power button ignored (vmkit.acpi=ignore)"
elif ls /dev/input/event* >/dev/null 2>&1; then
  acpid -c /etc/acpi -l /run/vmkit/acpid.log -p /run/vmkit/acpid.pid
else
  say "no input event devices: ACPI power button not handled"
fi

# Network: DHCP on eth0 (QEMU user networking), static 10.0.2.15/24 as fallback.
ifconfig lo 127.0.0.1 up
tries=50
while [ ! -e /sys/class/net/eth0 ] && [ "$tries" -gt 0 ]; do sleep 0.2; tries=$((tries - 1)); done
if [ -e /sys/class/net/eth0 ]; then
  ifconfig eth0 up
  if ! udhcpc -i eth0 -s /vmkit/udhcpc.sh -n -q -f -t 5 -T 1 >/run/vmkit/udhcpc.log 2>&1; then
    say "DHCP failed; using static 10.0.2.15/24 via 10.0.2.2"
    ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up
    route add default gw 10.0.2.2 dev eth0
    echo 10.0.2.15 >/run/vmkit/ip
  fi
else
  say "no eth0"
fi
# Further NICs (eth1, ...): DHCP in the background, no default route, no fallback address.
for dev in /sys/class/net/eth*; do
  dev=${dev##*/}
  [ "$dev" = eth0 ] || [ ! -e "/sys/class/net/$dev" ] && continue
  ifconfig "$dev" up
  udhcpc -i "$dev" -s /vmkit/udhcpc.sh -n -q -f -t 10 -T 1 -x hostname:vmkit >"/run/vmkit/udhcpc-$dev.log" 2>&1 &
done
ip=$(cat /run/vmkit/ip 2>/dev/null)
stamp "network ${ip:-down}"

. /vmkit/guest-agent.sh
start_guest_agent

# Config drive: NoCloud (meta-data, user-data) or OpenStack config-2.
: >"$www/instance-id"
echo vmkit >"$www/hostname"
: >"$www/user-data"
post=
found=$(find_config_drive "$(cmdline_get vmkit.wait 10)")
if [ -n "$found" ] && fs=$(mount_config_drive "${found% *}"); then
  d=$VMKIT_DRIVE_MNT
  echo "VMKIT-DRIVE label=${found#* } fs=$fs"
  if [ -f "$d/meta-data" ]; then
    awk -f /vmkit/meta-field.awk -v key=instance-id "$d/meta-data" >"$www/instance-id"
    h=$(awk -f /vmkit/meta-field.awk -v key=local-hostname "$d/meta-data")
    [ -n "$h" ] || h=$(awk -f /vmkit/meta-field.awk -v key=hostname "$d/meta-data")
    [ -f "$d/user-data" ] && cat "$d/user-data" >"$www/user-data"
    post=$(awk -f /vmkit/meta-field.awk -v key=vmkit-post-install "$d/meta-data")
  elif [ -f "$d/openstack/latest/meta_data.json" ]; then
    awk -f /vmkit/meta-field.awk -v key=uuid "$d/openstack/latest/meta_data.json" >"$www/instance-id"
    h=$(awk -f /vmkit/meta-field.awk -v key=hostname "$d/openstack/latest/meta_data.json")
    [ -f "$d/openstack/latest/user_data" ] && cat "$d/openstack/latest/user_data" >"$www/user-data"
  fi
  # Hostname: letters, digits, dot and dash; at most 63 characters.
  h=$(printf '%s' "$h" | tr -c 'A-Za-z0-9.-' '-' | cut -c1-63)
  [ -n "$h" ] && echo "$h" >"$www/hostname"
  umount "$d"
else
  echo "VMKIT-NO-DRIVE"
fi
stamp "config drive read"
first=
IFS= read -r first <"$www/user-data"
case "$post:$first" in true:'#!'*) post_install ;; esac
hostname "$(cat "$www/hostname")"
hostname >"$www/hostname"
hostname >/etc/hostname

# Boot marker on the root disk (a linked clone's overlay takes this write).
iid=$(cat "$www/instance-id")
marker=/var/lib/vmkit/booted-$(printf '%s' "${iid:-no-instance-id}" | tr -c 'A-Za-z0-9._-' '_' | cut -c1-200)
date -u +%Y-%m-%dT%H:%M:%SZ >>"$marker"
sync

{
  printf '{"instanceId":'
  printf '%s' "$iid" >/run/vmkit/iid.tmp
  json_string /run/vmkit/iid.tmp
  printf ',"hostname":'
  printf '%s' "$(hostname)" >/run/vmkit/hn.tmp
  json_string /run/vmkit/hn.tmp
  printf ',"userData":'
  json_string "$www/user-data"
  # The hardware the guest sees, for tests of a node's memory and vCPUs.
  printf ',"memTotalKiB":%s,"cpus":%s' "$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)" "$(nproc)"
  printf '}\n'
} >"$www/index.html"
rm -f /run/vmkit/iid.tmp /run/vmkit/hn.tmp
# The plain files carry the exact values, without the newline that `hostname` adds.
printf '%s' "$iid" >"$www/instance-id"
printf '%s' "$(hostname)" >"$www/hostname"

# Files a master's post-install steps left in /etc/vmkit-post are served under /post/.
if [ -d /etc/vmkit-post ]; then
  mkdir -p "$www/post"
  cp -a /etc/vmkit-post/. "$www/post/"
fi

. /vmkit/data-volumes.sh
data_volumes
stamp "data volumes listed"

httpd -f -p 80 -h "$www" &
echo $! >/run/vmkit/httpd.pid
tries=50
until wget -q -O /dev/null http://127.0.0.1/ 2>/dev/null; do
  tries=$((tries - 1))
  [ "$tries" -gt 0 ] || { echo "VMKIT-RUN-FAILED httpd"; shutdown_node; }
  sleep 0.2
done
stamp "httpd up"
echo "VMKIT-READY ip=${ip:-none}"

while :; do
  sleep 3600 &
  wait $!
done
