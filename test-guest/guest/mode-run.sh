# vmkit.mode=run (initramfs stage): mount the installed root disk read-write and
# switch_root into it; /vmkit/root-init.sh on that disk does the rest. Sourced by /init.

run_fail() {
  echo "VMKIT-RUN-FAILED $1"
  vmkit_poweroff
}

target=$(cmdline_get root /dev/vda)
case "$target" in
  LABEL=* | UUID=*)
    spec=$target
    tries=50
    until target=$(findfs "$spec" 2>/dev/null); do
      tries=$((tries - 1))
      [ "$tries" -gt 0 ] || run_fail "no-disk $spec"
      sleep 0.2
    done
    ;;
esac
wait_for_block "$target" 10 || run_fail "no-disk $target"
mount -t ext4 "$target" /newroot 2>/dev/null ||
  mount -t ext2 "$target" /newroot 2>/dev/null || run_fail "mount $target"
if [ ! -f /newroot/etc/vmkit-master ] || [ ! -x /newroot/vmkit/root-init.sh ]; then
  umount /newroot
  run_fail "not-installed $target"
fi
for m in dev proc sys run; do
  mount --move "/$m" "/newroot/$m" || run_fail "move /$m"
done
exec switch_root /newroot /vmkit/root-init.sh
run_fail "switch_root"
