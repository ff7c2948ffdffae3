#!/usr/bin/env bash
# `npm test`: installs what is missing, builds, lints, starts the real components the integration
# tests need (scripts/test.d/*.sh, in order), builds the API reference, runs the docs and examples,
# then unit and integration tests. In CI (CI=true) nothing may be skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
bash scripts/setup.sh
log "lint (biome) and type-check of tests"
npx biome check .
npx tsc -p tsconfig.tests.json
for hook in scripts/test.d/*.sh; do
  [[ -e "$hook" ]] || continue
  log "preparing: $hook"
  bash "$hook"
done
log "API reference (typedoc, warnings are errors)"
npx typedoc --logLevel Warn
log "API report (api/*.api.md must match the public surface; \`npm run api\` updates it)"
npx tsx scripts/api-report.ts --check
log "libvirt procedure numbers (generated from the protocol definition)"
npx tsx scripts/libvirt-procedures.ts --check
log "docs and examples"
npx tsx scripts/check-docs.ts
log "unit and integration tests"
npx vitest run
