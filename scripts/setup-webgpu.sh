#!/usr/bin/env bash
# Make a WebGPU adapter available to Dawn (npm `webgpu`) on this Linux machine.
#
# Idempotent. What it does:
#   - a GPU with a Vulkan driver already present (an ICD json under the usual
#     directories, or VK_DRIVER_FILES/VK_ICD_FILENAMES set): changes nothing;
#   - otherwise, as root with apt: installs the Vulkan loader (libvulkan1) and
#     Mesa's CPU Vulkan driver (lavapipe) from Debian's bookworm-backports suite
#     (Mesa >= 25; Debian 12's own Mesa 22.3 lavapipe lacks
#     shaderUniform*ArrayDynamicIndexing, which Dawn's Vulkan backend requires);
#   - without root or apt: prints that only the CPU backend will be usable and
#     exits 0 (the project runs on its CPU backend then).
# Exit codes: 0 ok (or CPU-only), 1 an install step failed.
set -euo pipefail

log() { printf 'setup-webgpu: %s\n' "$*" >&2; }

icd_dirs=(/usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d)
have_loader() { ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; }
have_gpu_icd() {
  # A hardware driver counts only with a GPU device node beside it: Mesa's packages ship
  # ICDs for radeon/intel even on machines without those GPUs.
  compgen -G '/dev/nvidia[0-9]*' >/dev/null || compgen -G '/dev/dri/renderD*' >/dev/null || return 1
  local d f
  for d in "${icd_dirs[@]}"; do
    for f in "$d"/*.json; do
      [ -e "$f" ] || continue
      case "$(basename "$f")" in lvp_icd*) ;; *) return 0 ;; esac
    done
  done
  return 1
}
lavapipe_ok() {
  # lavapipe from Mesa >= 25 (the backports build) is what Dawn accepts.
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] || return 1
  [ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || [ -e /usr/share/vulkan/icd.d/lvp_icd.json ] || return 1
  dpkg --compare-versions "$v" ge 25 
}

if [ -n "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && have_loader; then
  log "VK_DRIVER_FILES/VK_ICD_FILENAMES set and a Vulkan loader present: nothing to do"; exit 0
fi
if have_loader && lavapipe_ok; then
  log "Vulkan loader and Mesa >= 25 lavapipe already installed: nothing to do"; exit 0
fi
if have_loader && have_gpu_icd; then
  log "a Vulkan loader, a hardware driver and a GPU device are present: nothing to do"; exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  log "no WebGPU-capable Vulkan driver, and no root/apt to install one."
  log "gpu-drp will run on its CPU backend only (set GPU_DRP_BACKEND=cpu to silence the probe)."
  exit 0
fi

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" != bookworm ]; then
  # Newer Debian/Ubuntu releases ship a Mesa recent enough in their main suite.
  log "installing libvulkan1 and mesa-vulkan-drivers from $codename"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1 mesa-vulkan-drivers >/dev/null
  exit 0
fi

# bookworm: enable bookworm-backports with the same mirror the system already uses.
bp=/etc/apt/sources.list.d/gpu-drp-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | grep -v security | awk '{print $2}' | head -n1 || true)
  fi
  if [ -z "$uri" ]; then log "cannot find the Debian mirror in apt's sources"; exit 1; fi
  log "enabling bookworm-backports from $uri"
  cat > "$bp" <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
log "installing libvulkan1 and Mesa lavapipe (bookworm-backports)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1 >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
lavapipe_ok || { log "lavapipe install did not give Mesa >= 25"; exit 1; }
log "done: $(dpkg-query -W -f='mesa-vulkan-drivers ${Version}' mesa-vulkan-drivers)"
