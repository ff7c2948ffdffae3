#!/usr/bin/env bash
# Builds vmkit's tiny real test guest from Debian's packages:
#   $VMKIT_GUEST_DIR/vmlinuz        Debian cloud kernel
#   $VMKIT_GUEST_DIR/initrd.img     busybox-static initramfs (gzip newc cpio) with /init
#   $VMKIT_GUEST_DIR/manifest.json  kernel version, sha256s, inputs hash
# Default VMKIT_GUEST_DIR: <repo>/.vmkit/test-guest. Idempotent: keyed on a hash of
# its inputs (kernel package, busybox binary, qemu-ga's packages, guest scripts, module list, this file),
# it returns at once when the outputs already match. See test-guest/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
out=${VMKIT_GUEST_DIR:-$repo/.vmkit/test-guest}
meta_pkg=linux-image-cloud-amd64
format_version=1

log() { printf '[test-guest] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }

for tool in apt-cache apt-get dpkg-deb dpkg-query sha256sum gzip flock; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done

# The kernel package that linux-image-cloud-amd64 depends on (the name changes with
# every ABI bump), its version and apt's SHA256 of it. apt-cache takes about a second
# per call here (no pkgcache), so the answer is memoised against a fingerprint of the
# apt package lists: any `apt-get update` that changes them triggers a fresh lookup.
# The package lists are updated only when the lookup fails.
mkdir -p "$out/.cache"
lookup_memo="$out/.cache/apt-lookup"
apt_fingerprint() {
  stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* /etc/apt/sources.list \
    /etc/apt/sources.list.d/* 2>/dev/null | sha256sum | cut -d' ' -f1
}
apt_updated=0
apt_update() {
  [[ $apt_updated -eq 1 ]] && return 0
  log "updating apt package lists"
  apt-get update -qq >&2 || die "apt-get update failed"
  apt_updated=1
}
kernel_package() {
  apt-cache depends "$meta_pkg" 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
package_field() { # package field
  apt-cache show --no-all-versions "$1" 2>/dev/null | awk -v f="$2:" '$1 == f { print $2; exit }'
}
lookup_kernel() {
  kpkg=$(kernel_package)
  if [[ -z "$kpkg" ]]; then
    apt_update
    kpkg=$(kernel_package)
  fi
  [[ -n "$kpkg" ]] || die "cannot resolve the package behind $meta_pkg (apt-cache depends)"
  kpkg_version=$(package_field "$kpkg" Version)
  kpkg_sha=$(package_field "$kpkg" SHA256)
  [[ -n "$kpkg_version" && -n "$kpkg_sha" ]] || die "no Version/SHA256 for $kpkg in apt-cache show"
  printf '%s\n%s\n%s\n%s\n' "$(apt_fingerprint)" "$kpkg" "$kpkg_version" "$kpkg_sha" >"$lookup_memo"
}
kpkg="" kpkg_version="" kpkg_sha=""
if [[ -f "$lookup_memo" && "$(sed -n 1p "$lookup_memo")" == "$(apt_fingerprint)" ]]; then
  { read -r _; read -r kpkg; read -r kpkg_version; read -r kpkg_sha; } <"$lookup_memo"
fi
[[ -n "$kpkg" && -n "$kpkg_version" && -n "$kpkg_sha" ]] || lookup_kernel

# The static busybox from Debian's busybox-static package (not a dynamic one).
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' ||
  die "busybox-static is not installed (apt-get install busybox-static)"
busybox=$(dpkg-query -L busybox-static | grep -E '^/(usr/)?bin/busybox$' | head -n1)
[[ -x "$busybox" ]] || die "busybox-static has no bin/busybox"
busybox_version=$(dpkg-query -W -f='${Version}' busybox-static)

# The QEMU guest agent (qemu-ga) and the packages of the shared libraries it loads, so the
# guest answers agent commands: their candidate versions and apt SHA256s, memoised like the
# kernel lookup (one apt-cache call for all of them).
qga_packages=(qemu-guest-agent libglib2.0-0 libpcre2-8-0 libnuma1 libudev1 liburing2 libc6)
qga_memo="$out/.cache/apt-qga"
lookup_qga() {
  local listing
  listing=$(apt-cache show --no-all-versions "${qga_packages[@]}" 2>/dev/null |
    awk '$1 == "Package:" { p = $2 } $1 == "Version:" { v = $2 } $1 == "SHA256:" { print p, v, $2 }')
  if [[ $(wc -l <<<"$listing") -ne ${#qga_packages[@]} ]]; then
    apt_update
    listing=$(apt-cache show --no-all-versions "${qga_packages[@]}" 2>/dev/null |
      awk '$1 == "Package:" { p = $2 } $1 == "Version:" { v = $2 } $1 == "SHA256:" { print p, v, $2 }')
  fi
  [[ $(wc -l <<<"$listing") -eq ${#qga_packages[@]} ]] || die "apt-cache show lacks one of: ${qga_packages[*]}"
  printf '%s\n%s\n' "$(apt_fingerprint)" "$listing" >"$qga_memo"
}
if [[ ! -f "$qga_memo" || "$(sed -n 1p "$qga_memo")" != "$(apt_fingerprint)" ]]; then lookup_qga; fi
qga_listing=$(sed -n '2,$p' "$qga_memo")

# Hash of every input; the outputs are rebuilt only when it changes.
inputs_hash=$(
  {
    echo "format=$format_version kernel=$kpkg $kpkg_version $kpkg_sha"
    echo "busybox=$busybox_version $(sha256 "$busybox")"
    echo "qga=$qga_listing"
    for f in "$here/build.sh" "$here/modules.txt" "$here"/guest/*; do
      echo "${f#"$here"/} $(sha256 "$f")"
    done
  } | sha256sum | cut -d' ' -f1
)

exec 9>"$out/.lock"
flock 9

manifest_field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$out/manifest.json" | head -n1; }
up_to_date() {
  [[ -f "$out/manifest.json" && -f "$out/vmlinuz" && -f "$out/initrd.img" ]] || return 1
  [[ "$(manifest_field inputsHash)" == "$inputs_hash" ]] || return 1
  grep -q "\"sha256\": \"$(sha256 "$out/vmlinuz")\"" "$out/manifest.json" || return 1
  grep -q "\"sha256\": \"$(sha256 "$out/initrd.img")\"" "$out/manifest.json" || return 1
}
if up_to_date; then
  log "up to date: $out (kernel $(manifest_field kernelVersion), inputs $inputs_hash)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vmkit-test-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Packages are cached by their apt SHA256 and downloaded with apt-get download.
cache="$out/.cache"
apt_opts=(-q)
[[ $(id -u) -eq 0 ]] && apt_opts+=(-o APT::Sandbox::User=root)
cached_deb() { # directory package sha256: prints the cached .deb with that SHA256, if any
  local f
  for f in "$1"/"$2"_*.deb; do
    [[ -f "$f" && "$(sha256 "$f")" == "$3" ]] && { echo "$f"; return 0; }
  done
  return 0
}

# 1. Kernel package.
deb=$(cached_deb "$cache" "$kpkg" "$kpkg_sha")
if [[ -z "$deb" ]]; then
  log "downloading $kpkg $kpkg_version"
  if ! (cd "$work" && apt-get download "${apt_opts[@]}" "$kpkg" >&2); then
    # Stale package lists (the mirror dropped that version): update and look up again.
    apt_update
    old="$kpkg $kpkg_sha"
    lookup_kernel
    if [[ "$kpkg $kpkg_sha" != "$old" ]]; then
      log "kernel package changed to $kpkg $kpkg_version; starting over"
      rm -rf "$work"
      exec 9>&-
      exec bash "$here/build.sh"
    fi
    (cd "$work" && apt-get download "${apt_opts[@]}" "$kpkg" >&2) || die "apt-get download $kpkg failed"
  fi
  fetched=$(ls "$work"/"${kpkg}"_*.deb)
  [[ "$(sha256 "$fetched")" == "$kpkg_sha" ]] || die "$fetched does not match apt's SHA256"
  rm -f "$cache"/linux-image-*.deb
  mv "$fetched" "$cache/"
  deb="$cache/$(basename "$fetched")"
fi

log "unpacking $(basename "$deb")"
kroot="$work/kernel"
dpkg-deb -x "$deb" "$kroot"
kvers=("$kroot"/lib/modules/*)
[[ ${#kvers[@]} -eq 1 && -d "${kvers[0]}" ]] || die "expected one module tree in $kpkg"
kver=$(basename "${kvers[0]}")
[[ -f "$kroot/boot/vmlinuz-$kver" ]] || die "no boot/vmlinuz-$kver in $kpkg"
"$busybox" depmod -b "$kroot" "$kver"

# 2. Module closure from modules.dep (built-in modules are recorded, not shipped).
mdir="$kroot/lib/modules/$kver"
declare -A ship=()
load_order=()
builtin=()
add_with_deps() { # relative path of a .ko in the kernel tree
  local rel=$1 dep
  [[ -n "${ship[$rel]:-}" ]] && return 0
  ship[$rel]=1
  for dep in $(awk -v m="$rel:" '$1 == m { $1 = ""; print; exit }' "$mdir/modules.dep"); do
    add_with_deps "$dep"
  done
}
while read -r name; do
  name=${name%%#*}; name=${name//[[:space:]]/}
  [[ -z "$name" ]] && continue
  name=${name//-/_}
  rel=$(awk -F: -v n="$name" '{ b = $1; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b); gsub(/-/, "_", b)
        if (b == n) { print $1; exit } }' "$mdir/modules.dep")
  if [[ -n "$rel" ]]; then
    add_with_deps "$rel"
    load_order+=("$name")
  elif awk -v n="$name" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b)
        if (b == n) { found = 1 } } END { exit !found }' "$mdir/modules.builtin"; then
    builtin+=("$name")
  else
    die "module $name is neither in modules.dep nor in modules.builtin of $kver"
  fi
done <"$here/modules.txt"

# 3. qemu-ga and the closure of its shared libraries (ldd over the unpacked packages only:
#    a library resolved from the host instead fails the build), with the dynamic loader.
qroot="$work/qga"
mkdir -p "$cache/qga" "$qroot"
while read -r pkg version sha; do
  qdeb=$(cached_deb "$cache/qga" "$pkg" "$sha")
  if [[ -z "$qdeb" ]]; then
    log "downloading $pkg $version"
    mkdir -p "$work/dl"
    (cd "$work/dl" && apt-get download "${apt_opts[@]}" "$pkg=$version" >&2) || die "apt-get download $pkg failed"
    fetched=$(ls "$work"/dl/"${pkg}"_*.deb)
    [[ "$(sha256 "$fetched")" == "$sha" ]] || die "$fetched does not match apt's SHA256"
    rm -f "$cache"/qga/"${pkg}"_*.deb
    mv "$fetched" "$cache/qga/"
    qdeb="$cache/qga/$(basename "$fetched")"
  fi
  dpkg-deb -x "$qdeb" "$qroot"
done <<<"$qga_listing"
qga="$qroot/usr/sbin/qemu-ga"
[[ -x "$qga" ]] || die "qemu-guest-agent has no usr/sbin/qemu-ga"
libdirs="$qroot/lib/x86_64-linux-gnu:$qroot/usr/lib/x86_64-linux-gnu"
qga_libs=()
while read -r lib; do
  [[ "$lib" == "$qroot"/* ]] || die "qemu-ga needs $lib, which none of ${qga_packages[*]} ships"
  qga_libs+=("$lib")
done < <(LD_LIBRARY_PATH=$libdirs ldd "$qga" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
[[ ${#qga_libs[@]} -gt 0 ]] || die "ldd found no library of qemu-ga"

# 4. The initramfs tree.
stage="$work/initrd"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib/x86_64-linux-gnu,lib64,etc/vmkit,etc/acpi/PWRF,vmkit,dev,proc,sys,run,tmp,mnt,newroot,root,var/lib/vmkit}
cp "$busybox" "$stage/bin/busybox"
chmod 0755 "$stage/bin/busybox"
while read -r applet; do
  [[ "$applet" == bin/busybox || -e "$stage/$applet" ]] && continue
  up=$(dirname "$applet" | sed 's|[^/][^/]*|..|g')
  ln -s "$up/bin/busybox" "$stage/$applet"
done < <("$busybox" --list-full)
for rel in "${!ship[@]}"; do
  install -D -m 0644 "$mdir/$rel" "$stage/lib/modules/$kver/$rel"
done
cp "$mdir/modules.builtin" "$mdir/modules.order" "$stage/lib/modules/$kver/"
"$busybox" depmod -b "$stage" "$kver"
printf '%s\n' "${load_order[@]}" >"$stage/etc/vmkit/modules"
install -m 0755 "$here/guest/init" "$stage/init"
install -m 0755 "$qga" "$stage/usr/sbin/qemu-ga"
for lib in "${qga_libs[@]}"; do install -m 0644 "$(readlink -f "$lib")" "$stage/lib/x86_64-linux-gnu/${lib##*/}"; done
# libc6's /lib64 link is absolute (/lib/x86_64-linux-gnu/...): follow it inside the unpacked tree.
loader=$(readlink "$qroot/lib64/ld-linux-x86-64.so.2" || echo /lib64/ld-linux-x86-64.so.2)
[[ "$loader" == /* ]] || loader="/lib64/$loader"
install -m 0755 "$(readlink -f "$qroot$loader")" "$stage/lib64/ld-linux-x86-64.so.2"
for f in "$here"/guest/*.sh "$here"/guest/*.awk; do
  install -m 0755 "$f" "$stage/vmkit/$(basename "$f")"
done
ln -s ../../../vmkit/acpi-power.sh "$stage/etc/acpi/PWRF/00000080"
printf 'kernel=%s\ninputs=%s\nbusybox=%s\n' "$kver" "$inputs_hash" "$busybox_version" >"$stage/etc/vmkit/build"
echo "vmkit-guest" >"$stage/etc/hostname"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"

# Reproducible archive: fixed mtimes, root owner, sorted names, gzip without timestamp.
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 --renumber-inodes --ignore-devno 2>/dev/null) |
  gzip -9 -n >"$work/initrd.img"

# 5. Publish: files first, manifest last (its hash check gates the fast path).
install -m 0644 "$kroot/boot/vmlinuz-$kver" "$out/.vmlinuz.new"
install -m 0644 "$work/initrd.img" "$out/.initrd.img.new"
mv -f "$out/.vmlinuz.new" "$out/vmlinuz"
mv -f "$out/.initrd.img.new" "$out/initrd.img"
json_list() { local s="" x; for x in "$@"; do s+="${s:+, }\"$x\""; done; printf '[%s]' "$s"; }
cat >"$out/.manifest.json.new" <<EOF
{
  "formatVersion": $format_version,
  "kernelVersion": "$kver",
  "kernelPackage": "$kpkg",
  "kernelPackageVersion": "$kpkg_version",
  "busyboxVersion": "$busybox_version",
  "guestAgent": "$(awk '$1 == "qemu-guest-agent" { print $2 }' <<<"$qga_listing")",
  "inputsHash": "$inputs_hash",
  "files": {
    "vmlinuz": { "sha256": "$(sha256 "$out/vmlinuz")", "size": $(stat -c %s "$out/vmlinuz") },
    "initrd.img": { "sha256": "$(sha256 "$out/initrd.img")", "size": $(stat -c %s "$out/initrd.img") }
  },
  "modules": $(json_list "${load_order[@]}"),
  "builtinModules": $(json_list "${builtin[@]}"),
  "cmdline": {
    "print": "console=ttyS0 panic=-1 vmkit.mode=print",
    "install": "console=ttyS0 panic=-1 vmkit.mode=install root=/dev/vda",
    "run": "console=ttyS0 panic=-1 vmkit.mode=run root=/dev/vda"
  }
}
EOF
mv -f "$out/.manifest.json.new" "$out/manifest.json"
log "built $out: kernel $kver, vmlinuz $(stat -c %s "$out/vmlinuz") B, initrd $(stat -c %s "$out/initrd.img") B, ${#ship[@]} module files, qemu-ga with ${#qga_libs[@]} libraries"
