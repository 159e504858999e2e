#!/usr/bin/env bash
# A throwaway WebDAV server (Apache httpd + mod_dav_fs, private config; nothing in
# /etc/apache2 is read or changed) for the datastore tests.
#
#   bash scripts/services/webdav.sh start STATE_DIR [PORT]   # prints `export ...` lines
#   bash scripts/services/webdav.sh stop STATE_DIR
#
# start: writes STATE_DIR/httpd.conf (listening on 127.0.0.1:PORT, a free port when PORT
# is not given; the share /dav -> STATE_DIR/data with Basic auth, user `dav` and a fresh
# random password in STATE_DIR/htpasswd), starts apache2 (it daemonizes; error log
# STATE_DIR/error.log), waits until an authenticated OPTIONS answers, and prints, for
# `eval "$(bash scripts/services/webdav.sh start D)"`:
#   export GPU_DRP_TEST_WEBDAV_URL=webdav://127.0.0.1:PORT/dav
#   export GPU_DRP_WEBDAV_USER=dav GPU_DRP_WEBDAV_PASSWORD=...
# stop: `apache2 -k stop` (asynchronous) and waits until run/httpd.pid is gone.
# Needs the apache2 package (Debian: apt-get install apache2; CI installs it).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop STATE_DIR [PORT]" >&2
  exit 2
fi
mkdir -p "$dir"
D=$(cd "$dir" && pwd)
M=/usr/lib/apache2/modules
APACHE=$(command -v apache2 || echo /usr/sbin/apache2)

stop() {
  if [[ -f "$D/httpd.conf" && -f "$D/run/httpd.pid" ]]; then
    "$APACHE" -f "$D/httpd.conf" -k stop </dev/null >>"$D/control.log" 2>&1 || true
    for _ in $(seq 100); do [[ -f "$D/run/httpd.pid" ]] || break; sleep 0.05; done
    if [[ -f "$D/run/httpd.pid" ]]; then
      kill -9 "$(cat "$D/run/httpd.pid")" 2>/dev/null || true
      rm -f "$D/run/httpd.pid"
    fi
  fi
}

case "$cmd" in
  start)
    if [[ ! -x "$APACHE" || ! -f $M/mod_dav_fs.so ]]; then
      echo "webdav.sh: apache2 with mod_dav_fs is not installed (Debian: apt-get install apache2)" >&2
      exit 1
    fi
    if [[ -f "$D/run/httpd.pid" ]] && kill -0 "$(cat "$D/run/httpd.pid")" 2>/dev/null; then
      echo "webdav.sh: a server from $D is running (pid $(cat "$D/run/httpd.pid")); stop it first" >&2
      exit 1
    fi
    port=${3:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
    user=dav
    password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
    mkdir -p "$D/data" "$D/lock" "$D/run"
    htpasswd -bc "$D/htpasswd" "$user" "$password" >/dev/null 2>&1
    cat >"$D/httpd.conf" <<CONF
ServerRoot "$D"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$D/run/httpd.pid"
Mutex file:$D/run default
ErrorLog "$D/error.log"
User www-data
Group www-data
LoadModule mpm_event_module $M/mod_mpm_event.so
LoadModule authz_core_module $M/mod_authz_core.so
LoadModule authz_user_module $M/mod_authz_user.so
LoadModule authn_core_module $M/mod_authn_core.so
LoadModule authn_file_module $M/mod_authn_file.so
LoadModule auth_basic_module $M/mod_auth_basic.so
LoadModule alias_module $M/mod_alias.so
LoadModule mime_module $M/mod_mime.so
LoadModule dav_module $M/mod_dav.so
LoadModule dav_fs_module $M/mod_dav_fs.so
TypesConfig /etc/mime.types
DavLockDB "$D/lock/DavLock"
LimitRequestBody 0
Alias /dav "$D/data"
<Directory "$D/data">
  Dav On
  DavDepthInfinity On
  Options None
  AuthType Basic
  AuthName dav
  AuthUserFile "$D/htpasswd"
  Require valid-user
</Directory>
CONF
    if [[ $(id -u) == 0 ]]; then
      chown -R www-data:www-data "$D/data" "$D/lock"
      chmod o+r "$D/htpasswd"
      chmod o+x "$D"
      # The workers run as www-data: every directory above the share must let them pass.
      if ! runuser -u www-data -- test -w "$D/data"; then
        echo "webdav.sh: www-data cannot reach $D/data; use a STATE_DIR whose parent directories are world-executable (e.g. under /tmp, not inside a mktemp -d without chmod o+x)" >&2
        exit 1
      fi
    fi
    "$APACHE" -f "$D/httpd.conf" -k start </dev/null >>"$D/control.log" 2>&1 || {
      echo "webdav.sh: apache2 did not start; see $D/control.log and $D/error.log:" >&2
      tail -n 20 "$D/control.log" "$D/error.log" >&2 2>/dev/null || true
      exit 1
    }
    ok=0
    for _ in $(seq 200); do
      if curl -s -o /dev/null -u "$user:$password" -X OPTIONS "http://127.0.0.1:$port/dav/"; then ok=1; break; fi
      sleep 0.05
    done
    if [[ $ok != 1 ]]; then
      echo "webdav.sh: no answer on 127.0.0.1:$port within 10 s; see $D/error.log" >&2
      stop
      exit 1
    fi
    echo "$port" >"$D/port"
    echo "export GPU_DRP_TEST_WEBDAV_URL=webdav://127.0.0.1:$port/dav"
    echo "export GPU_DRP_WEBDAV_USER=$user GPU_DRP_WEBDAV_PASSWORD=$password"
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: $0 start|stop STATE_DIR [PORT]" >&2
    exit 2
    ;;
esac
