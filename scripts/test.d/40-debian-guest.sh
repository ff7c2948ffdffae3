#!/usr/bin/env bash
# Builds the Debian 12 test guest (systemd, cloud-init, openssh-server) the Debian integration
# tests boot: about two minutes once, then cached under .vmkit/debian-guest. Fast when built.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test-guest/debian/build.sh
