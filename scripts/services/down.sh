#!/usr/bin/env bash
# Stop the servers scripts/services/up.sh started under STATE_DIR (default .services/).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-.services}
[ -d "$dir" ] || exit 0
for svc in s3 webdav postgres; do
  [ -f "$here/$svc.sh" ] && [ -d "$dir/$svc" ] && bash "$here/$svc.sh" stop "$dir/$svc" >/dev/null 2>&1
done
exit 0
