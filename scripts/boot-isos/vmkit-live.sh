#!/bin/sh
# rdinit of the live fixture ISO (scripts/test.d/30-boot-isos.sh), added to the test guest's
# initramfs: loads the modules, brings up eth0, reads the config drive's user-data and serves
# {"instanceId","hostname","userData","cmdline","firmware"} on port 80 (also /cmdline); no disk is
# used. `firmware` is `efi` when the kernel was started by UEFI firmware, else `bios`.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec 0</dev/console 1>/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755 tmpfs /run
. /vmkit/lib.sh
dmesg -n 1
stty -onlcr 2>/dev/null
load_modules
mkdir -p /run/vmkit /run/www
ifconfig lo 127.0.0.1 up
tries=50
while [ ! -e /sys/class/net/eth0 ] && [ "$tries" -gt 0 ]; do sleep 0.2; tries=$((tries - 1)); done
ifconfig eth0 up 2>/dev/null
if ! udhcpc -i eth0 -s /vmkit/udhcpc.sh -n -q -f -t 5 -T 1 >/run/vmkit/udhcpc.log 2>&1; then
  ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up
  route add default gw 10.0.2.2 dev eth0
fi
cat /proc/cmdline >/run/www/cmdline
VMKIT_DRIVE_MNT=/mnt/drive
if found=$(find_config_drive 10); then
  set -- $found
  mount_config_drive "$1" >/dev/null && cp "$VMKIT_DRIVE_MNT/user-data" /run/www/user-data 2>/dev/null
fi
touch /run/www/user-data
if [ -d /sys/firmware/efi ]; then firmware=efi; else firmware=bios; fi
printf '{"instanceId":"live","hostname":"live","userData":%s,"cmdline":%s,"firmware":"%s"}\n' \
  "$(json_string /run/www/user-data)" "$(json_string /run/www/cmdline)" "$firmware" >/run/www/index.html
httpd -p 80 -h /run/www
echo "VMKIT-LIVE-READY"
while :; do sleep 3600; done
