#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the registry tests (CI only: trust auth, fsync off).
#
#   bash scripts/services/postgres.sh start STATE_DIR [PORT]   # prints one `export ...` line
#   bash scripts/services/postgres.sh stop STATE_DIR
#
# start: initdb (once) as user postgres in STATE_DIR/data, start the server on 127.0.0.1:PORT
# (a free port by default) with its socket and log in STATE_DIR, create database `registry`, and print
#   export GPU_DRP_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/registry
# Running start again on a running cluster only prints the line. stop: fast shutdown and
# removal of STATE_DIR. Follows /work/shared/reference/infra-recipes.md section 1.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start STATE_DIR [PORT] | stop STATE_DIR" >&2
  exit 2
fi
if [[ ! -x "$PGBIN/initdb" ]]; then
  echo "postgres.sh: $PGBIN/initdb not found; install postgresql-15 (apt-get install postgresql-15) or set PGBIN" >&2
  exit 1
fi

# The server refuses to run as root: run its tools as `postgres` when we are root.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    # A free port unless one is given (a fixed default collides with another checkout's server).
    port=${3:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
      as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
      }
    fi
    if ! as_pg "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o \
        "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || {
        tail -20 "$dir/server.log" >&2
        exit 1
      }
      echo "$port" >"$dir/port"
    fi
    port=$(cat "$dir/port" 2>/dev/null || echo "$port")
    "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port"
    exists=$(as_pg psql -h "$dir" -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'registry'")
    if [[ "$exists" != "1" ]]; then
      as_pg psql -h "$dir" -p "$port" -U postgres -qc 'CREATE DATABASE registry'
    fi
    echo "export GPU_DRP_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/registry"
    ;;
  stop)
    if [[ -f "$dir/data/PG_VERSION" ]]; then
      as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start STATE_DIR [PORT] | stop STATE_DIR" >&2
    exit 2
    ;;
esac
