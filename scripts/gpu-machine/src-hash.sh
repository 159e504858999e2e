#!/usr/bin/env bash
# One hash of the sources dist/ is built from (src/, bench/, tsconfig.json), so run.sh
# can tell whether the packed dist/ matches the working tree that travelled with it.
# Prints the hash; run from anywhere (hashes the repository this script lives in, or $1).
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
find src bench -type f -name '*.ts' -print0 | LC_ALL=C sort -z |
  xargs -0 sha256sum | cat - tsconfig.json | sha256sum | cut -c1-16
