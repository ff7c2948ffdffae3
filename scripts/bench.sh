#!/usr/bin/env bash
# `npm run bench`: installs and builds what is missing, starts components, runs every benchmark in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
bash scripts/setup.sh
for hook in scripts/test.d/*.sh; do [[ -e "$hook" ]] && bash "$hook"; done
npx tsx bench/run.ts "$@"
