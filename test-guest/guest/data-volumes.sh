# Run mode, root stage: reports the guest's virtio disks and serves vfat data volumes.
# Sourced by root-init.sh once the config drive has been read. Writes $www/blocks, one line
# per /sys/block/vd* disk: "<name> <bytes> <label>" (label "-" unless it is FAT), and
# mounts every vfat disk other than the root and the config drive read-only on
# $www/data/<label> (or $www/data/<name> without a label), so httpd serves its files under
# /data/<label>/. Prints "VMKIT-DATA-VOLUME <name> label=<label> fs=vfat" for each one mounted.

# Busybox has no blkid: the FAT type and volume label are read from the boot sector
# (FAT32: type at 82, label at 71; FAT12/16: type at 54, label at 43). Prints "<type> <label>".
fat_probe() {
  local t
  t=$(dd if="$1" bs=1 skip=82 count=5 2>/dev/null)
  if [ "$t" = FAT32 ]; then
    echo "vfat $(dd if="$1" bs=1 skip=71 count=11 2>/dev/null | sed 's/ *$//')"
    return
  fi
  t=$(dd if="$1" bs=1 skip=54 count=5 2>/dev/null)
  case "$t" in FAT12 | FAT16) echo "vfat $(dd if="$1" bs=1 skip=43 count=11 2>/dev/null | sed 's/ *$//')" ;; *) echo "-" ;; esac
}

data_volumes() {
  local sys name dev bytes probe label fs dir
  : >"$www/blocks"
  for sys in /sys/block/vd*; do
    [ -e "$sys" ] || continue
    name=${sys##*/}
    dev=/dev/$name
    bytes=$(( $(cat "$sys/size") * 512 ))
    probe=$(fat_probe "$dev")
    fs=${probe%% *}
    label=
    [ "$fs" = vfat ] && label=${probe#vfat }
    [ "$label" = "NO NAME" ] && label=
    echo "$name $bytes ${label:--}" >>"$www/blocks"
    [ "$fs" = vfat ] || continue
    case "$label" in cidata | CIDATA | config-2 | CONFIG-2) continue ;; esac
    dir=$www/data/$(printf '%s' "${label:-$name}" | tr -c 'A-Za-z0-9._-' '_')
    mkdir -p "$dir"
    if mount -t vfat -o ro "$dev" "$dir" 2>/dev/null; then
      echo "VMKIT-DATA-VOLUME $name label=${label:--} fs=vfat"
    else
      say "data volume $name did not mount"
      rmdir "$dir"
    fi
  done
}
