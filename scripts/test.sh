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
# Two lanes at once (see vitest.config.ts): most of the libvirt provider's guest-booting files in
# one; the docs and examples, the unit tests and every other integration file in the other. Each lane's
# lines carry its name; the run fails when either lane does.
lane() {
  local name=$1
  shift
  (set -o pipefail; "$@" 2>&1 | sed -u "s/^/[$name] /")
}
log "two lanes at once: [guests] libvirt integration tests; [rest] docs and examples, unit tests, the other integration tests"
# The guests lane in a process group of its own (setsid), ended with this script however it ends.
setsid bash -c "$(declare -f lane); lane guests env VMKIT_TEST_LANE=guests npx vitest run --project integration" &
guests=$!
stop_guests() { kill -TERM -- "-$guests" 2>/dev/null || true; }
trap stop_guests EXIT
trap 'stop_guests; exit 130' INT
trap 'stop_guests; exit 143' TERM
rest_status=0
lane rest bash -c 'set -e
  echo "docs and examples"; npx tsx scripts/check-docs.ts
  echo "unit tests"; npx vitest run --project unit
  echo "integration tests (all but the guests lane'"'"'s)"; VMKIT_TEST_LANE=rest npx vitest run --project integration' ||
  rest_status=$?
guests_status=0
wait "$guests" || guests_status=$?
trap - EXIT INT TERM
if ((guests_status != 0 || rest_status != 0)); then
  log "FAILED: lane guests exited $guests_status, lane rest exited $rest_status (their lines above carry [guests] and [rest])"
  exit 1
fi
log "all tests passed (both lanes)"
