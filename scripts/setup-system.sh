#!/usr/bin/env bash
# System packages the tests use besides WebGPU (scripts/setup-webgpu.sh):
#   postgresql    a real PostgreSQL server for the registry suite (15 on Debian 12)
#   apache2       Apache httpd with mod_dav_fs, the WebDAV server of the datastore suite
#   swarp, source-extractor
#                 the peers gpu-bench compares against (SWarp 2.41, Source Extractor 2.25)
#   munge, slurm-wlm
#                 a one-node Slurm for the workflow tests
# Idempotent: installs only what is missing (dpkg -s), never upgrades what is there, and
# keeps apt from starting the packages' default services (every test starts its own
# private instance on a high port). Without root or apt it says what is missing and
# exits 0: the tests that need a missing server then fail under CI=true and skip
# visibly otherwise.
set -euo pipefail
log() { printf 'setup-system: %s\n' "$*" >&2; }

want=(postgresql apache2 swarp source-extractor munge slurm-wlm curl)
missing=()
for p in "${want[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  log "all present: ${want[*]}"; exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  log "missing ${missing[*]} and no root/apt to install them; the tests that need them will say so"
  exit 0
fi
log "installing ${missing[*]}"
# No default services at install time (Debian's policy-rc.d convention).
guard=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  guard=1
fi
trap '[ $guard = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/setup-system-apt.log 2>&1; then
  apt-get update -q >/tmp/setup-system-apt.log 2>&1 || true
  apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/setup-system-apt.log 2>&1 || {
    log "apt-get install failed; see /tmp/setup-system-apt.log"; tail -n 20 /tmp/setup-system-apt.log >&2; exit 1; }
fi
log "installed ${missing[*]}"
