#!/usr/bin/env bash
# A throwaway S3 server (s3rver from node_modules) for the datastore tests.
#
#   bash scripts/services/s3.sh start STATE_DIR [PORT]   # prints `export ...` lines
#   bash scripts/services/s3.sh stop STATE_DIR
#
# start: runs s3rver on 127.0.0.1:PORT (a free port when PORT is not given) with its data,
# log (s3rver.log) and pid file in STATE_DIR, waits for its first HTTP answer, creates
# the bucket `gpu-drp-test` and prints, for `eval "$(bash scripts/services/s3.sh start D)"`:
#   export GPU_DRP_TEST_S3_URL=s3://gpu-drp-test/datastore AWS_ENDPOINT_URL_S3=http://127.0.0.1:PORT
#          AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
# The server runs in the background until `stop`. NODE_OPTIONS=--openssl-legacy-provider
# is needed: s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3
# disables (paginated listings fail without it).
# stop: kills the server by its pid file and waits until it is gone (data stays in STATE_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop STATE_DIR [PORT]" >&2
  exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pidfile=$dir/s3rver.pid
bucket=gpu-drp-test

stop() {
  if [[ -f "$pidfile" ]]; then
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  fi
}

case "$cmd" in
  start)
    bin=$ROOT/node_modules/.bin/s3rver
    if [[ ! -x "$bin" ]]; then
      echo "s3.sh: $bin is missing; run npm ci (s3rver is a dev dependency)" >&2
      exit 1
    fi
    if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "s3.sh: a server from $dir is running (pid $(cat "$pidfile")); stop it first" >&2
      exit 1
    fi
    port=${3:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
    mkdir -p "$dir/data"
    # stdin/stdout/stderr detached so that `$(...)` around this script returns at once.
    NODE_OPTIONS=--openssl-legacy-provider setsid "$bin" -d "$dir/data" -a 127.0.0.1 -p "$port" \
      --configure-bucket "$bucket" </dev/null >"$dir/s3rver.log" 2>&1 &
    echo $! >"$pidfile"
    echo "$port" >"$dir/port"
    ok=0
    for _ in $(seq 200); do
      if curl -s -o /dev/null "http://127.0.0.1:$port/"; then ok=1; break; fi
      if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then break; fi
      sleep 0.05
    done
    if [[ $ok != 1 ]]; then
      echo "s3.sh: s3rver did not answer on 127.0.0.1:$port within 10 s; see $dir/s3rver.log:" >&2
      tail -n 20 "$dir/s3rver.log" >&2 || true
      stop
      exit 1
    fi
    # The bucket is created by --configure-bucket at startup; check that it answers.
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/$bucket")" != 200 ]]; then
      echo "s3.sh: bucket $bucket was not created; see $dir/s3rver.log" >&2
      stop
      exit 1
    fi
    echo "export GPU_DRP_TEST_S3_URL=s3://$bucket/datastore AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1"
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: $0 start|stop STATE_DIR [PORT]" >&2
    exit 2
    ;;
esac
