#!/usr/bin/env bash
# Install the npm dependencies when node_modules is missing or older than the lockfile.
# Sourced by scripts/test.sh and scripts/start.sh; idempotent.
set -euo pipefail
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
