#!/usr/bin/env bash
# Start every server the integration tests use, each a private throwaway instance on a
# free 127.0.0.1 port with its state under STATE_DIR (default .services/):
#   PostgreSQL (scripts/services/postgres.sh), WebDAV (webdav.sh), S3 (s3.sh).
# Prints `export ...` lines for `eval "$(bash scripts/services/up.sh)"` and also writes
# them to STATE_DIR/env.sh. A server that cannot start is reported on stderr and left
# out (its tests then fail under CI=true and skip visibly otherwise); the exit code is 1
# if any failed. Stop them all with scripts/services/down.sh STATE_DIR.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-.services}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
: >"$dir/env.sh"
status=0
for svc in postgres webdav s3; do
  script=$here/$svc.sh
  [ -f "$script" ] || { echo "services: no $svc.sh; skipping $svc" >&2; continue; }
  bash "$script" stop "$dir/$svc" >/dev/null 2>&1 || true
  t0=$(date +%s%N)
  if out=$(bash "$script" start "$dir/$svc"); then
    printf '%s\n' "$out" >>"$dir/env.sh"
    echo "services: $svc up in $((($(date +%s%N) - t0) / 1000000)) ms" >&2
  else
    echo "services: $svc failed to start (logs in $dir/$svc)" >&2
    status=1
  fi
done
cat "$dir/env.sh"
exit $status
