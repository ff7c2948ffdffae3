#!/usr/bin/env bash
# Test hook: makes sure libvirtd answers on /run/libvirt/libvirt-sock before the integration tests
# of @vmkit/provider-libvirt run against `qemu:///system` and `test+unix:///default`.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/libvirt/ensure-libvirtd.sh
