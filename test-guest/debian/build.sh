#!/usr/bin/env bash
# Builds vmkit's Debian 12 test guest (systemd, cloud-init, openssh-server) from Debian packages,
# with qemu-guest-agent downloaded into its apt cache for vmkit's install-agent step:
#   $VMKIT_DEBIAN_GUEST_DIR/disk.qcow2     a disk that boots under BIOS and UEFI: MBR, partition 1
#                                          FAT16 with SYSLINUX (BIOS), GRUB at EFI/BOOT/BOOTX64.EFI
#                                          (UEFI's removable-media path), and the image's kernel and
#                                          initrd, partition 2 the ext4 root (2 GiB, /dev/vda2);
#                                          boots from disk like a cloud image
#   $VMKIT_DEBIAN_GUEST_DIR/vmlinuz        the image's own kernel (for direct kernel boot)
#   $VMKIT_DEBIAN_GUEST_DIR/initrd.img     the image's own initramfs (initramfs-tools)
#   $VMKIT_DEBIAN_GUEST_DIR/manifest.json  kernel version, sizes, sha256s, inputs hash, command line
# Default VMKIT_DEBIAN_GUEST_DIR: <repo>/.vmkit/debian-guest. Idempotent: keyed on a hash of its
# inputs (this file, packages.txt, mmdebstrap's version and the candidate version of every listed
# package and of qemu-guest-agent), it returns at once when the outputs already match. The mmdebstrap tarball is cached
# in .cache/ under the hash of the package inputs only, so a change to the disk layout does not
# download again. Nothing is mounted (mkfs.ext4 -d, mkfs.fat/syslinux --offset, mtools, dd).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${VMKIT_DEBIAN_GUEST_DIR:-$repo/.vmkit/debian-guest}
suite=bookworm
format_version=1
disk_size=2G
cmdline='root=/dev/vda2 rw console=ttyS0'

log() { printf '[debian-guest] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }

for tool in mmdebstrap mkfs.ext4 mkfs.fat syslinux grub-mkimage sfdisk mcopy mmd qemu-img apt-cache dpkg-query tar sha256sum flock; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (bash scripts/setup.sh installs it)"
done
[[ $(id -u) -eq 0 ]] || die "must run as root (mmdebstrap's root mode keeps file ownership for mkfs.ext4 -d)"

mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/packages.txt" | grep -v '^$')
[[ ${#packages[@]} -gt 0 ]] || die "packages.txt lists no package"

# One apt-cache call for the candidate versions: a new version of any listed package rebuilds.
candidates=$(apt-cache policy "${packages[@]}" 2>/dev/null | awk '/^[^ ]/ { p = $1 } $1 == "Candidate:" { print p, $2 }')
rootfs_hash=$(
  {
    echo "suite=$suite"
    echo "mmdebstrap=$(dpkg-query -W -f='${Version}' mmdebstrap 2>/dev/null || echo unknown)"
    echo "$candidates"
    echo "packages.txt $(sha256 "$here/packages.txt")"
  } | sha256sum | cut -d' ' -f1
)
# The guest agent is not installed in the image: vmkit's install-agent step installs it, offline,
# from the image's own apt lists and cache (see step 2). Its candidate version is an input.
agent_package=qemu-guest-agent
agent_candidate=$(apt-cache policy "$agent_package" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
inputs_hash=$(printf 'format=%s size=%s rootfs=%s build.sh=%s agent=%s\n' "$format_version" "$disk_size" \
  "$rootfs_hash" "$(sha256 "$here/build.sh")" "$agent_candidate" | sha256sum | cut -d' ' -f1)

mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

manifest_field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$out/manifest.json" | head -n1; }
up_to_date() {
  local f
  [[ -f "$out/manifest.json" ]] || return 1
  [[ "$(manifest_field inputsHash)" == "$inputs_hash" ]] || return 1
  # Sizes only: hashing the 500 MB disk on every run would cost seconds.
  for f in disk.qcow2 vmlinuz initrd.img; do
    [[ -f "$out/$f" ]] || return 1
    grep -q "\"$f\": { \"sha256\": \"[0-9a-f]*\", \"size\": $(stat -c %s "$out/$f") }" "$out/manifest.json" || return 1
  done
}
if up_to_date; then
  log "up to date: $out (kernel $(manifest_field kernelVersion), inputs $inputs_hash)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vmkit-debian-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$SECONDS

# 1. The root file system, from Debian's repositories (the host's apt sources), cached by the
#    hash of the package inputs.
mkdir -p "$out/.cache"
tarball="$out/.cache/rootfs-$rootfs_hash.tar"
if [[ ! -f "$tarball" ]]; then
  include=$(IFS=,; echo "${packages[*]}")
  log "mmdebstrap $suite with $include (one to five minutes)"
  mmdebstrap --quiet --variant=apt --include="$include" "$suite" "$work/rootfs.tar" >&2 ||
    die "mmdebstrap failed"
  rm -f "$out"/.cache/rootfs-*.tar
  mv "$work/rootfs.tar" "$tarball"
fi
root="$work/root"
mkdir "$root"
tar -C "$root" --numeric-owner -xpf "$tarball"

# 2. What direct kernel boot of a whole-disk ext4 needs, and a quick cloud-init.
echo '/dev/vda2 / ext4 defaults 0 1' >"$root/etc/fstab"
echo 'localhost' >"$root/etc/hostname"
# Only the datasources vmkit writes (NoCloud and config-2 drives): no network metadata probes.
# No growpart/resize2fs (the root partition is not the last thing to grow into here, and it
# fails the init stage), and only an ed25519 host key: RSA 3072 costs seconds under TCG.
cat >"$root/etc/cloud/cloud.cfg.d/90-vmkit-test-guest.cfg" <<'EOF'
datasource_list: [NoCloud, ConfigDrive, None]
resize_rootfs: false
growpart: { mode: "off" }
ssh_genkeytypes: [ed25519]
EOF
# The image's apt lists, and in its apt cache (downloaded, not installed) qemu-guest-agent with
# the libraries the image lacks: vmkit's install-agent step then installs the agent with
# `apt-get install --no-download`, as on a machine that fetched its packages before going offline.
cp -a "$root/etc/resolv.conf" "$work/resolv.conf.image"
cp /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" apt-get update -q >&2 || die "apt-get update in the image failed"
chroot "$root" apt-get install -q -y --download-only --no-install-recommends "$agent_package" >&2 ||
  die "downloading $agent_package into the image's apt cache failed"
cp -a "$work/resolv.conf.image" "$root/etc/resolv.conf"
ls "$root"/var/cache/apt/archives/"${agent_package}"_*.deb >/dev/null 2>&1 || die "no $agent_package in the image's apt cache"
kernels=("$root"/boot/vmlinuz-*)
[[ ${#kernels[@]} -eq 1 && -f "${kernels[0]}" ]] || die "expected one kernel in /boot"
kver=${kernels[0]##*/vmlinuz-}
[[ -f "$root/boot/initrd.img-$kver" ]] || die "no /boot/initrd.img-$kver (initramfs-tools did not run)"
install -m 0644 "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
install -m 0644 "$root/boot/initrd.img-$kver" "$work/initrd.img"

# 3. The disk: MBR with SYSLINUX's boot code; partition 1 FAT16 (SYSLINUX for BIOS, a GRUB EFI
#    image for UEFI, kernel, initrd); partition 2 the ext4 root made from the tree. Then qcow2.
sector=512 boot_start=2048 boot_sectors=$((128 * 2048))
truncate -s "$disk_size" "$work/root.raw"
mkfs.ext4 -q -F -L vmkit-root -d "$root" "$work/root.raw" || die "mkfs.ext4 -d failed"
rm -rf "$root"
root_start=$((boot_start + boot_sectors))
root_sectors=$(($(stat -c %s "$work/root.raw") / sector))
disk="$work/disk.raw"
truncate -s $(((root_start + root_sectors) * sector)) "$disk"
printf 'label: dos\nstart=%s, size=%s, type=6, bootable\nstart=%s, size=%s, type=83\n' \
  "$boot_start" "$boot_sectors" "$root_start" "$root_sectors" | sfdisk -q --no-reread --no-tell-kernel "$disk" >&2
# (mkfs.fat warns that the file is larger than the partition: it is, by design.)
mkfs.fat -F 16 -n VMKITBOOT --offset "$boot_start" "$disk" $((boot_sectors / 2)) >/dev/null 2>&1 ||
  die "mkfs.fat failed"
syslinux --offset $((boot_start * sector)) --install "$disk"
printf 'DEFAULT debian\nPROMPT 0\nTIMEOUT 0\nLABEL debian\n  KERNEL vmlinuz\n  INITRD initrd.img\n  APPEND %s\n' \
  "$cmdline" >"$work/syslinux.cfg"
for f in vmlinuz initrd.img syslinux.cfg; do mcopy -i "$disk@@$((boot_start * sector))" "$work/$f" "::$f"; done
# UEFI: OVMF boots EFI/BOOT/BOOTX64.EFI from any FAT file system it finds; GRUB's prefix is the
# partition it was loaded from, where its grub.cfg boots the same kernel with the same command line.
grub-mkimage -O x86_64-efi -p /boot/grub -o "$work/bootx64.efi" part_msdos fat normal linux configfile echo >/dev/null ||
  die "grub-mkimage failed (bash scripts/setup.sh installs grub-efi-amd64-bin)"
printf 'set timeout=0\nlinux /vmlinuz %s\ninitrd /initrd.img\nboot\n' "$cmdline" >"$work/grub.cfg"
mmd -i "$disk@@$((boot_start * sector))" ::/EFI ::/EFI/BOOT ::/boot ::/boot/grub
mcopy -i "$disk@@$((boot_start * sector))" "$work/bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$disk@@$((boot_start * sector))" "$work/grub.cfg" ::/boot/grub/grub.cfg
dd if="$work/root.raw" of="$disk" bs=1M seek=$((root_start * sector / 1048576)) conv=notrunc,sparse status=none
rm -f "$work/root.raw"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$disk" "$work/disk.qcow2"
rm -f "$disk"

# 4. Publish: files first, manifest last (its hash check gates the fast path).
for f in disk.qcow2 vmlinuz initrd.img; do mv -f "$work/$f" "$out/.$f.new" && mv -f "$out/.$f.new" "$out/$f"; done
file_entry() { printf '"%s": { "sha256": "%s", "size": %s }' "$1" "$(sha256 "$out/$1")" "$(stat -c %s "$out/$1")"; }
cat >"$out/.manifest.json.new" <<EOF
{
  "formatVersion": $format_version,
  "suite": "$suite",
  "kernelVersion": "$kver",
  "inputsHash": "$inputs_hash",
  "files": {
    $(file_entry disk.qcow2),
    $(file_entry vmlinuz),
    $(file_entry initrd.img)
  },
  "cmdline": "$cmdline"
}
EOF
mv -f "$out/.manifest.json.new" "$out/manifest.json"
log "built $out in $((SECONDS - started)) s: kernel $kver, disk.qcow2 $(stat -c %s "$out/disk.qcow2") B"
