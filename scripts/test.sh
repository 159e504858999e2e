#!/usr/bin/env bash
# The project's test command (`npm test`). On a fresh Debian/Ubuntu machine it sets up
# everything the tests need: npm dependencies, a WebGPU adapter (lavapipe when there is
# no GPU; needs root and apt), system packages (PostgreSQL, Apache WebDAV, SWarp, Source
# Extractor, Slurm: scripts/setup-system.sh) and private servers for the integration
# tests (scripts/services/up.sh), then runs lint, typecheck, the build and vitest.
# Its last line is "N passed, N failed" (from vitest's JSON report).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-deps.sh || exit 1
bash scripts/setup-webgpu.sh || exit 1
bash scripts/setup-system.sh || exit 1

# Private PostgreSQL, WebDAV and S3 servers for the integration tests (stopped on exit).
services=.services
trap 'bash scripts/services/down.sh "$services"' EXIT
eval "$(bash scripts/services/up.sh "$services")" || echo "test: some services did not start (see above)" >&2

status=0
echo "== lint (biome)"; npx biome check --error-on-warnings . || status=1
echo "== typecheck"; npx tsc -p tsconfig.check.json || status=1
echo "== build"; npm run --silent build || status=1

echo "== vitest"
results=.vitest-results.json
rm -f "$results"
npx vitest run --reporter=default --reporter=json --outputFile="$results" "$@" || status=1
node scripts/test-summary.mjs "$results" || status=1
exit $status
