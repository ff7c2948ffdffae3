#!/usr/bin/env bash
# Installs and builds what vmkit's tests and demo need. Idempotent: safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
ensure_system_packages
ensure_node_modules
build_packages
