# Shared helpers for vmkit's set-up scripts. Source it; do not run it.
log() { printf '\033[1m[vmkit]\033[0m %s\n' "$*" >&2; }

# Commands the tests and the demo need, each with the Debian package that provides it.
SYSTEM_DEPS=(
  "qemu-system-x86_64:qemu-system-x86"
  "qemu-img:qemu-utils"
  "libvirtd:libvirt-daemon"
  # libvirtd runs under it where no service manager reaps its QEMU processes (ensure-libvirtd.sh).
  "tini:tini"
  "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so:libvirt-daemon-driver-qemu"
  "virsh:libvirt-clients"
  "virt-xml-validate:libvirt-clients"
  "xorriso:xorriso"
  "genisoimage:genisoimage"
  "isoinfo:genisoimage"
  "mdir:mtools"
  "fsck.fat:dosfstools"
  "/usr/bin/cloud-init:cloud-init"
  "/bin/busybox:busybox-static"
  "xmllint:libxml2-utils"
  "/usr/sbin/dnsmasq:dnsmasq-base"
  "/usr/sbin/iptables:iptables"
  "debugfs:e2fsprogs"
  "curl:curl"
  "/usr/sbin/sshd:openssh-server"
  "/usr/share/gocode/src/github.com/digitalocean/go-libvirt/internal/constants/remote_protocol.gen.go:golang-github-digitalocean-go-libvirt-dev"
  "cloud-localds:cloud-image-utils"
  "sfdisk:fdisk"
  "syslinux:syslinux"
  # Vagrant itself reads the boxes vmkit writes (packages/import/src/box/vagrant.int.test.ts).
  "vagrant:vagrant"
  "/usr/share/doc/vagrant-libvirt/copyright:vagrant-libvirt"
  "/usr/lib/syslinux/mbr/mbr.bin:syslinux-common"
  "/usr/lib/grub/i386-pc/cdboot.img:grub-pc-bin"
  "/usr/lib/grub/x86_64-efi/linux.mod:grub-efi-amd64-bin"
  "grub-mkrescue:grub-common"
  "/usr/lib/ISOLINUX/isolinux.bin:isolinux"
  "/usr/lib/syslinux/modules/bios/ldlinux.c32:syslinux-common"
  "/usr/share/OVMF/OVMF_CODE_4M.fd:ovmf"
  "/usr/share/OVMF/OVMF_VARS_4M.fd:ovmf"
  "mcopy:mtools"
  "mkfs.fat:dosfstools"
  "mmdebstrap:mmdebstrap"
  "mkfs.ext4:e2fsprogs"
  "ssh:openssh-client"
  "ssh-keygen:openssh-client"
  "openssl:openssl"
  "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/initrd.gz:debian-installer-12-netboot-amd64"
  # Packer's QEMU builder is measured against vmkit's installs (bench/unattended-packer.bench.ts).
  "packer:packer"
)

# Installs the Debian packages whose commands are missing (root, apt). Safe to run twice.
ensure_system_packages() {
  local missing=() entry cmd pkg
  for entry in "${SYSTEM_DEPS[@]}"; do
    cmd="${entry%%:*}"; pkg="${entry##*:}"
    if [[ "$cmd" == /* ]]; then [[ -e "$cmd" ]] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    log "missing system packages: ${missing[*]} (run as root, or install them with apt-get)"; return 1
  fi
  log "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # libvirt-daemon-system is excluded: it pulls systemd units this machine does not run.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" libvirt-daemon-system- >/dev/null
}

# Runs `npm ci` when node_modules does not match package-lock.json. Safe to run twice.
ensure_node_modules() {
  local want have=""
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  [[ -f node_modules/.vmkit-lock-hash ]] && have=$(cat node_modules/.vmkit-lock-hash)
  if [[ "$want" != "$have" ]]; then
    log "installing npm dependencies (npm ci)"
    local err
    err=$(mktemp)
    if ! npm ci --no-audit --no-fund --loglevel=error 2>"$err"; then
      # npm 11 writes no lock entries for optional packages of other platforms when the registry
      # mirror does not list them, then `npm ci` calls the lock out of sync. `npm install` installs
      # the same locked versions.
      if grep -q 'from lock file' "$err"; then
        log "npm ci refused the lock file (optional packages of other platforms); using npm install"
        npm install --no-audit --no-fund --loglevel=error
      else
        cat "$err" >&2; rm -f "$err"; return 1
      fi
    fi
    rm -f "$err"
    sha256sum package-lock.json | cut -d' ' -f1 > node_modules/.vmkit-lock-hash
  fi
}

# Builds every package (incremental).
build_packages() {
  log "building packages (tsc -b, then the vmkit command's bundle)"
  npx tsc -b
  node packages/cli/scripts/bundle.mjs
}
