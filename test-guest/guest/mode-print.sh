# vmkit.mode=print: find the config drive, print every file on the console, power off.
# Never touches any other disk. Sourced by /init.

start_watchdog "$(cmdline_get vmkit.timeout 50)"
found=$(find_config_drive "$(cmdline_get vmkit.wait 10)")
if [ -z "$found" ]; then
  echo "VMKIT-NO-DRIVE"
  vmkit_poweroff
fi
dev=${found% *}
label=${found#* }
fs=$(mount_config_drive "$dev")
if [ -z "$fs" ]; then
  echo "VMKIT-NO-DRIVE label=$label dev=$dev mount-failed"
  vmkit_poweroff
fi
encoding=$(cmdline_get vmkit.encoding raw)
echo "VMKIT-DRIVE-BEGIN label=$label fs=$fs"
cd "$VMKIT_DRIVE_MNT" || vmkit_poweroff
find . -type f | sed 's|^\./||' | LC_ALL=C sort | while IFS= read -r path; do
  echo "VMKIT-FILE $path $(stat -c %s "$path")"
  if [ "$encoding" = base64 ]; then base64 "$path"; else cat "$path"; echo; fi
  echo "VMKIT-FILE-END"
done
echo "VMKIT-DRIVE-END"
cd /
vmkit_poweroff
