#!/usr/bin/env bash
# Builds the tiny test guest (Debian cloud kernel + busybox initramfs) the QEMU and libvirt
# integration tests boot. Fast when already built.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test-guest/build.sh
