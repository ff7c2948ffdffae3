#!/usr/bin/env bash
# `npm run demo`: installs what is missing, starts what the demo needs, runs examples/quickstart.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
bash scripts/setup.sh
for hook in scripts/demo.d/*.sh; do
  [[ -e "$hook" ]] || continue
  bash "$hook"
done
npx tsx examples/quickstart.ts
