# The QEMU guest agent: qemu-ga (shipped with its libraries by build.sh) on the virtio-serial
# port named org.qemu.guest_agent.0. Without udev there is no /dev/virtio-ports/ link: the port
# is found by its name in sysfs and linked where qemu-ga's documentation expects it.

start_guest_agent() {
  local port dev=
  for port in /sys/class/virtio-ports/*; do
    [ "$(cat "$port/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] && dev=/dev/${port##*/}
  done
  if [ -z "$dev" ] || [ ! -c "$dev" ]; then
    say "no guest agent channel"
    return 0
  fi
  mkdir -p /dev/virtio-ports /run/vmkit/qemu-ga
  ln -sf "$dev" /dev/virtio-ports/org.qemu.guest_agent.0
  /usr/sbin/qemu-ga -d -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 \
    -t /run/vmkit/qemu-ga -f /run/vmkit/qemu-ga.pid -l /run/vmkit/qemu-ga.log ||
    { say "qemu-ga did not start"; return 0; }
  stamp "guest agent started on $dev"
}
