#!/usr/bin/env bash
# Test hook: builds the small real bootable ISOs the boot ISO tests remaster and boot, around the
# test guest's kernel and a busybox initramfs whose /init prints /proc/cmdline, its arguments and
# its environment on the serial console, then powers off:
#   $out/mkrescue.iso   made by grub-mkrescue: GRUB for BIOS (El Torito + hybrid MBR) and UEFI
#   $out/isolinux.iso   isolinux for BIOS, GRUB in a FAT EFI image for UEFI (its grub.cfg sits
#                       inside the FAT image), isohybrid MBR + GPT (xorriso -isohybrid-gpt-basdat)
#   $out/appended.iso   the same, its EFI image an appended partition outside the ISO tree
#                       (xorriso -append_partition 2 0xef ... -e --interval:appended_partition_2:all::)
#   $out/live.iso       isolinux (BIOS) and GRUB in a FAT EFI image (UEFI) booting the test guest's
#                       kernel and initramfs with the live rdinit scripts/boot-isos/vmkit-live.sh:
#                       network, config drive, HTTP server answering /proc/cmdline and the
#                       firmware it booted from (libvirt nodes booted live from the ISO)
#   $out/manifest.txt   inputs hash, kernel command line arguments
# Default $out: <repo>/.vmkit/boot-isos. Idempotent: keyed on a hash of its inputs.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
out=${VMKIT_BOOT_ISO_DIR:-$repo/.vmkit/boot-isos}
guest=${VMKIT_GUEST_DIR:-$repo/.vmkit/test-guest}
log() { printf '[boot-isos] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

bash test-guest/build.sh >/dev/null
for f in /usr/lib/grub/i386-pc/cdboot.img /usr/lib/grub/x86_64-efi/linux.mod \
  /usr/lib/ISOLINUX/isolinux.bin /usr/lib/ISOLINUX/isohdpfx.bin \
  /usr/lib/syslinux/modules/bios/ldlinux.c32 /bin/busybox; do
  [[ -e "$f" ]] || die "missing $f (run scripts/setup.sh)"
done
for c in grub-mkrescue grub-mkimage xorriso mkfs.fat mcopy mmd gzip; do
  command -v "$c" >/dev/null || die "missing command $c (run scripts/setup.sh)"
done

# What the guest's /init prints; `--` hands what follows it to init, not to the kernel.
kargs='console=ttyS0 panic=-1 quiet'
initargs='vmkit-init-one vmkit-init-two'
format=2
inputs_hash=$(
  {
    echo "format=$format kargs=$kargs initargs=$initargs"
    sha256sum "$guest/vmlinuz" "$guest/initrd.img" scripts/boot-isos/vmkit-live.sh /bin/busybox "$0" /usr/lib/ISOLINUX/isolinux.bin \
      /usr/lib/ISOLINUX/isohdpfx.bin /usr/lib/grub/i386-pc/cdboot.img | cut -d' ' -f1
    dpkg-query -W -f='${Version}\n' grub-pc-bin grub-efi-amd64-bin isolinux xorriso 2>/dev/null
  } | sha256sum | cut -d' ' -f1
)
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if [[ -f "$out/manifest.txt" && "$(sed -n 's/^inputs=//p' "$out/manifest.txt")" == "$inputs_hash" &&
  -f "$out/mkrescue.iso" && -f "$out/isolinux.iso" && -f "$out/appended.iso" && -f "$out/live.iso" ]]; then
  log "up to date: $out"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vmkit-boot-isos.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. The initramfs: busybox and an /init that reports and powers off.
rd="$work/initrd"
mkdir -p "$rd"/{bin,proc,dev}
cp /bin/busybox "$rd/bin/busybox"
cat >"$rd/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
exec >/dev/console 2>&1
echo "VMKIT-BOOTISO-CMDLINE $(/bin/busybox cat /proc/cmdline)"
echo "VMKIT-BOOTISO-ARGS $*"
/bin/busybox env | /bin/busybox sed 's/^/VMKIT-BOOTISO-ENV /'
if [ -d /sys/firmware/efi ]; then echo "VMKIT-BOOTISO-FIRMWARE efi"; else echo "VMKIT-BOOTISO-FIRMWARE bios"; fi
echo "VMKIT-BOOTISO-END"
/bin/busybox poweroff -f
EOF
/bin/busybox mkdir -p "$rd/sys"
sed -i 's|^if \[ -d /sys|/bin/busybox mount -t sysfs sys /sys 2>/dev/null\nif [ -d /sys|' "$rd/init"
chmod 0755 "$rd/init"
find "$rd" -exec touch -h -d @0 {} +
(cd "$rd" && find . -mindepth 1 | LC_ALL=C sort | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) |
  gzip -9 -n >"$work/initrd.gz"

entry() { # kernel initrd -> a GRUB menu entry
  printf 'set timeout=0\nset default=0\nmenuentry "vmkit boot iso" {\n  linux %s %s -- %s\n  initrd %s\n}\n' \
    "$1" "$kargs" "$initargs" "$2"
}

# 2. grub-mkrescue: BIOS and UEFI GRUB, hybrid.
tree="$work/mkrescue"
mkdir -p "$tree/boot/grub" "$tree/live"
cp "$guest/vmlinuz" "$tree/live/vmlinuz"
cp "$work/initrd.gz" "$tree/live/initrd.gz"
{
  echo 'serial --unit=0 --speed=115200'
  echo 'terminal_input serial console'
  echo 'terminal_output serial console'
  entry /live/vmlinuz /live/initrd.gz
} >"$tree/boot/grub/grub.cfg"
(cd "$tree/live" && md5sum vmlinuz initrd.gz | sed 's|  |  ./live/|' >"$tree/md5sum.txt")
grub-mkrescue -o "$work/mkrescue.iso" "$tree" -- -volid VMKIT_RESCUE >"$work/mkrescue.log" 2>&1 ||
  { cat "$work/mkrescue.log" >&2; die "grub-mkrescue failed"; }

# 3. isolinux for BIOS, GRUB in a FAT EFI image for UEFI.
tree="$work/isolinux"
mkdir -p "$tree/isolinux" "$tree/boot/grub" "$tree/live" "$tree/EFI/boot"
cp "$guest/vmlinuz" "$tree/live/vmlinuz"
cp "$work/initrd.gz" "$tree/live/initrd.gz"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$tree/isolinux/"
cat >"$tree/isolinux/isolinux.cfg" <<EOF
serial 0 115200
default live
prompt 0
timeout 0
label live
  kernel /live/vmlinuz
  append initrd=/live/initrd.gz $kargs -- $initargs
EOF
efi_cfg() {
  echo 'search --no-floppy --file --set=root /live/vmlinuz'
  entry /live/vmlinuz /live/initrd.gz
}
efi_cfg >"$tree/boot/grub/grub.cfg"
grub-mkimage -O x86_64-efi -p /boot/grub -o "$work/bootx64.efi" \
  part_gpt part_msdos fat iso9660 search search_fs_file normal linux configfile echo test >/dev/null
cp "$work/bootx64.efi" "$tree/EFI/boot/bootx64.efi"
truncate -s 4M "$work/efi.img"
mkfs.fat -n VMKIT_EFI "$work/efi.img" >/dev/null
mmd -i "$work/efi.img" ::/EFI ::/EFI/BOOT ::/boot ::/boot/grub
mcopy -i "$work/efi.img" "$work/bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
efi_cfg >"$work/grub-efi.cfg"
mcopy -i "$work/efi.img" "$work/grub-efi.cfg" ::/boot/grub/grub.cfg
cp "$work/efi.img" "$tree/boot/grub/efi.img"
(cd "$tree" && { md5sum ./live/vmlinuz ./live/initrd.gz ./isolinux/isolinux.cfg ./boot/grub/grub.cfg >md5sum.txt; })
(cd "$tree" && { sha256sum ./isolinux/isolinux.cfg ./boot/grub/grub.cfg ./live/initrd.gz >sha256sum.txt; })
xorriso -as mkisofs -r -J -V VMKIT_ISOLINUX -o "$work/isolinux.iso" \
  -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin \
  -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
  -eltorito-alt-boot -e boot/grub/efi.img -no-emul-boot -isohybrid-gpt-basdat \
  "$tree" >"$work/xorriso.log" 2>&1 || { cat "$work/xorriso.log" >&2; die "xorriso failed"; }

# The same with the EFI image appended after the ISO (a hidden boot image, as Ubuntu's ISOs have).
rm "$tree/boot/grub/efi.img"
xorriso -as mkisofs -r -J -V VMKIT_APPENDED -o "$work/appended.iso" \
  -isohybrid-mbr /usr/lib/ISOLINUX/isohdpfx.bin \
  -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
  -append_partition 2 0xef "$work/efi.img" \
  -eltorito-alt-boot -e --interval:appended_partition_2:all:: -no-emul-boot \
  "$tree" >"$work/xorriso-appended.log" 2>&1 || { cat "$work/xorriso-appended.log" >&2; die "xorriso failed (appended)"; }

# 4. A live ISO: the test guest's initramfs, then a second one holding /vmkit-live.sh.
tree="$work/live"
mkdir -p "$tree/isolinux" "$tree/live" "$work/live-rd"
cp "$guest/vmlinuz" "$tree/live/vmlinuz"
cp "$guest/initrd.img" "$tree/live/initrd.img"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$tree/isolinux/"
install -m 0755 scripts/boot-isos/vmkit-live.sh "$work/live-rd/vmkit-live.sh"
touch -h -d @0 "$work/live-rd/vmkit-live.sh"
(cd "$work/live-rd" && echo vmkit-live.sh | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) | gzip -9 -n >"$tree/live/live.gz"
live_args='console=ttyS0 panic=-1 rdinit=/vmkit-live.sh'
printf 'default live\nprompt 0\ntimeout 0\nlabel live\n  kernel /live/vmlinuz\n  append %s\n' \
  "initrd=/live/initrd.img,/live/live.gz $live_args" >"$tree/isolinux/isolinux.cfg"
# UEFI: the same kernel and both initramfs images through GRUB, its grub.cfg in the tree and in
# the FAT EFI image (the remaster edits both).
live_efi_cfg() {
  echo 'search --no-floppy --file --set=root /live/vmlinuz'
  printf 'set timeout=0\nset default=0\nmenuentry "vmkit live" {\n  linux /live/vmlinuz %s\n  initrd /live/initrd.img /live/live.gz\n}\n' "$live_args"
}
mkdir -p "$tree/boot/grub"
live_efi_cfg >"$tree/boot/grub/grub.cfg"
cp "$work/efi.img" "$work/live-efi.img"
live_efi_cfg >"$work/grub-live-efi.cfg"
mcopy -o -i "$work/live-efi.img" "$work/grub-live-efi.cfg" ::/boot/grub/grub.cfg
cp "$work/live-efi.img" "$tree/boot/grub/efi.img"
xorriso -as mkisofs -r -J -V VMKIT_LIVE -o "$work/live.iso" \
  -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
  -eltorito-alt-boot -e boot/grub/efi.img -no-emul-boot \
  "$tree" >"$work/xorriso-live.log" 2>&1 || { cat "$work/xorriso-live.log" >&2; die "xorriso failed (live)"; }

# 5. Publish, manifest last.
mv -f "$work/live.iso" "$out/live.iso"
mv -f "$work/appended.iso" "$out/appended.iso"
mv -f "$work/mkrescue.iso" "$out/mkrescue.iso"
mv -f "$work/isolinux.iso" "$out/isolinux.iso"
printf 'inputs=%s\nkargs=%s\ninitargs=%s\n' "$inputs_hash" "$kargs" "$initargs" >"$out/.manifest.new"
mv -f "$out/.manifest.new" "$out/manifest.txt"
log "built $out: appended.iso $(stat -c %s "$out/appended.iso") B, live.iso $(stat -c %s "$out/live.iso") B, mkrescue.iso $(stat -c %s "$out/mkrescue.iso") B, isolinux.iso $(stat -c %s "$out/isolinux.iso") B"
