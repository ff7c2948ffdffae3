# vmkit.mode=install: make an ext2 file system (busybox mke2fs; the kernel's ext4
# driver mounts it) on the target disk, copy the guest userland onto it, write
# /etc/vmkit-master and power off. Sourced by /init.

install_fail() {
  echo "VMKIT-INSTALL-FAILED $1"
  vmkit_poweroff
}

start_watchdog "$(cmdline_get vmkit.timeout 120)"
target=$(cmdline_get root /dev/vda)
wait_for_block "$target" 10 || install_fail "no-disk $target"
say "installing onto $target"
mke2fs -F -L vmkit-root "$target" >/dev/null 2>&1 || install_fail "mke2fs $target"
VMKIT_TARGET_MNT=/newroot
mount -t ext4 "$target" "$VMKIT_TARGET_MNT" 2>/dev/null ||
  mount -t ext2 "$target" "$VMKIT_TARGET_MNT" || install_fail "mount $target"
for d in bin sbin usr lib lib64 etc vmkit init; do
  cp -a "/$d" "$VMKIT_TARGET_MNT/" || install_fail "copy /$d"
done
mkdir -p "$VMKIT_TARGET_MNT"/dev "$VMKIT_TARGET_MNT"/proc "$VMKIT_TARGET_MNT"/sys \
  "$VMKIT_TARGET_MNT"/run "$VMKIT_TARGET_MNT"/tmp "$VMKIT_TARGET_MNT"/mnt \
  "$VMKIT_TARGET_MNT"/root "$VMKIT_TARGET_MNT"/var/lib/vmkit || install_fail "mkdir"
{
  echo "installed-at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  cat /etc/vmkit/build
} >"$VMKIT_TARGET_MNT/etc/vmkit-master" || install_fail "write /etc/vmkit-master"
sync
umount "$VMKIT_TARGET_MNT" || install_fail "umount $target"
VMKIT_TARGET_MNT=
sync
echo "VMKIT-INSTALL-DONE"
vmkit_poweroff
