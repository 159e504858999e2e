#!/usr/bin/env bash
# Run THERE, on the lent GPU machine, from the repository root (the device tool's
# command: `bash scripts/gpu-machine/run.sh`, with carry [".gpu"] made by pack.sh).
# No network, no Node.js assumed: node, node_modules, dist/ and the Vulkan loader come
# from .gpu/. Everything it writes for you goes under $OUT (at most 8 files, all here):
#   run.log  info.json  bandwidth.json  conformance.json  e2e.json  warp.json
#   stack.json  summary.txt        (convolve.json instead of e2e.json with --only=...,convolve)
# Steps, in order, each with its own time limit, all inside one deadline (default 540 s):
#   info         gpu-coadd info --json; aborts unless the adapter is hardware
#   bandwidth    copy-bandwidth probe (scripts/gpu-machine/bandwidth.mjs)
#   conformance  vitest on test/ops (+ test/compute/webgpu-backend.test.ts), CI=true so
#                a missing adapter fails rather than skips
#   e2e          gpu-bench e2e --preset medium (8 visits x 4 CCDs of 2048^2 onto 4000^2,
#                MEANCLIP), gpu-coadd on webgpu and on cpu with every core, no peers:
#                per-CCD time, the webgpu/cpu ratio, stage timings, transfers
#   convolve     (only when asked) gpu-bench convolve 4096, widths 5,11,41, webgpu
#   warp         gpu-bench warp 4096 lanczos3, webgpu
#   stack        gpu-bench stack 4096, N=10 (and 32 when memory allows), MEAN/MEANCLIP/MEDIAN
# then prints the summary table last.
#
# Options (flag or environment):
#   --allow-software  GPU_MACHINE_ALLOW_SOFTWARE=1  go on with a software adapter (lavapipe)
#   --dry-run         GPU_MACHINE_DRY_RUN=1         tiny sizes (512 px, stack N=5, 3 repeats,
#                                                   one conformance file); implies --allow-software
#   --only=a,b        GPU_MACHINE_ONLY=a,b          run only these steps (info always runs)
#   GPU_MACHINE_TESTS="test/ops/x.test.ts ..."      conformance files to run
#   GPU_MACHINE_DEADLINE_S=540                      overall deadline for the steps
#   GPU_MACHINE_CONFORMANCE_S=120                   time limit of the conformance step
#   GPU_MACHINE_E2E_PRESET=medium                   e2e data set (tiny, small, medium)
#   GPU_MACHINE_STACK_N=10,32                       stack input counts (default: 10, +32 if RAM allows)
#   GPU_MACHINE_FORCE_DEB_LOADER=1                  use the carried libvulkan1 even if one is installed
#   GPU_MACHINE_RT=/tmp/gpu-drp-rt                  where node, node_modules and the app are unpacked
# Exit: 0 all steps ok; 1 a step failed or timed out; 3 no hardware adapter; 4 .gpu/ unusable.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 4
REPO=$PWD

DRY=${GPU_MACHINE_DRY_RUN:-0}
ALLOW_SW=${GPU_MACHINE_ALLOW_SOFTWARE:-0}
ONLY=${GPU_MACHINE_ONLY:-info,bandwidth,conformance,e2e,warp,stack}
for a in "$@"; do
  case "$a" in
    --allow-software) ALLOW_SW=1 ;;
    --dry-run) DRY=1 ;;
    --only=*) ONLY=${a#--only=} ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $a (--help)" >&2; exit 2 ;;
  esac
done
[ "$DRY" = 1 ] && ALLOW_SW=1
OUT=${OUT:-$REPO/tmp/gpu-machine-out}
mkdir -p "$OUT" || exit 4
OUT=$(cd "$OUT" && pwd)
RT=${GPU_MACHINE_RT:-/tmp/gpu-drp-rt}
DEADLINE_S=${GPU_MACHINE_DEADLINE_S:-540}
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
GPU=$REPO/.gpu
STEPS=$RT.steps.tsv
T0=$SECONDS

want() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
note() { printf '%s\t%s\n' "$1" "$2" >>"$STEPS"; }
ldc() { local l; l=$(command -v ldconfig || echo /sbin/ldconfig); [ -x "$l" ] || l=/usr/sbin/ldconfig; "$l" -p 2>/dev/null; }

unxz_to() { # <file.xz> <dest>
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
untar_xz() { # <file.tar.xz> <dir>
  if command -v xz >/dev/null 2>&1; then tar -C "$2" -xJf "$1"
  else python3 -c '
import sys, tarfile
t = tarfile.open(sys.argv[1])
t.extractall(sys.argv[2], filter="tar") if hasattr(tarfile, "tar_filter") else t.extractall(sys.argv[2])' "$1" "$2"; fi
}
deb_x() { # <file.deb> <dir>: dpkg -x, or a Python reader of the ar archive
  if command -v dpkg >/dev/null 2>&1; then dpkg -x "$1" "$2"
  else python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
f = open(sys.argv[1], "rb")
assert f.read(8) == b"!<arch>\n", "not a .deb"
while True:
    h = f.read(60)
    if len(h) < 60:
        break
    name, size = h[:16].decode().strip().rstrip("/"), int(h[48:58])
    data = f.read(size)
    if size % 2:
        f.read(1)
    if name.startswith("data.tar"):
        tarfile.open(fileobj=io.BytesIO(data), mode="r:*").extractall(sys.argv[2])
PY
  fi
}

# One step: name, time limit (s), command. Limits shrink to fit the overall deadline.
step() {
  local name=$1 limit=$2 left rc t
  shift 2
  if ! want "$name"; then return 0; fi
  left=$((DEADLINE_S - (SECONDS - T0) - 15))
  if ((left < 15)); then
    echo "== $name: skipped, the deadline (${DEADLINE_S}s) is reached"
    note "$name" "SKIPPED (deadline)"
    return 1
  fi
  ((limit > left)) && limit=$left
  echo
  echo "== $name (limit ${limit}s, at $((SECONDS - T0))s): $*"
  t=$SECONDS
  timeout --kill-after=10 "$limit" "$@"
  rc=$?
  t=$((SECONDS - t))
  if ((rc == 0)); then note "$name" "ok (${t}s)"
  elif ((rc == 124 || rc == 137)); then note "$name" "TIMEOUT (${limit}s)"
  else note "$name" "FAILED rc=$rc (${t}s)"; fi
  echo "== $name: $(tail -n1 "$STEPS" | cut -f2)"
  return $rc
}

adapter_kind() { # prints: hardware|software|none <description>
  node dist/src/cli/bin/gpu-coadd.js info --json >"$RT/info.json" 2>"$RT/info.err"
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const w = r.backends.webgpu, a = w.adapter;
    console.log(!w.usable || !a ? `none ${w.reason}` : `${a.isSoftware ? "software" : "hardware"} ${a.description || a.device} (${a.vendor}/${a.architecture})`);
  ' "$RT/info.json" 2>/dev/null || echo "none gpu-coadd info failed: $(tail -n3 "$RT/info.err" | tr '\n' ' ')"
}

main() {
  echo "== gpu-machine run.sh: $(date -u +%FT%TZ) on $(hostname) ($(uname -srm)); dry-run=$DRY allow-software=$ALLOW_SW steps=$ONLY"
  echo "   OUT=$OUT  runtime=$RT"
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw --format=csv 2>&1 | sed 's/^/   /'
    GPU_MACHINE_CARD=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n1)
    export GPU_MACHINE_CARD
  else
    echo "   (no nvidia-smi)"
  fi
  grep -E 'MemTotal|MemAvailable' /proc/meminfo | sed 's/^/   /'

  # --- unpack ------------------------------------------------------------------------
  for f in node.xz node_modules.tar.xz dist.tar.xz manifest.json SHA256SUMS; do
    [ -f "$GPU/$f" ] || { echo "run.sh: .gpu/$f missing: run scripts/gpu-machine/pack.sh on the main machine and carry [\".gpu\"]"; return 4; }
  done
  (cd "$GPU" && sha256sum --quiet -c SHA256SUMS) || { echo "run.sh: .gpu/ is corrupt (SHA256SUMS)"; return 4; }
  rm -rf "$RT" "$STEPS"
  mkdir -p "$RT/bin" "$RT/app" || return 4
  local t=$SECONDS
  unxz_to "$GPU/node.xz" "$RT/bin/node" && chmod +x "$RT/bin/node" || { echo "run.sh: cannot unpack node"; return 4; }
  export PATH="$RT/bin:$PATH"
  cp -a package.json vitest.config.ts tsconfig.json src test bench shaders scripts "$RT/app/" || return 4
  untar_xz "$GPU/dist.tar.xz" "$RT/app" && untar_xz "$GPU/node_modules.tar.xz" "$RT/app" || { echo "run.sh: cannot unpack dist/node_modules"; return 4; }
  echo "   unpacked in $((SECONDS - t))s: node $(node --version) ($(command -v node))"
  cd "$RT/app" || return 4
  GPU_DRP_GIT_REV=$(node -p 'require(process.argv[1]).git_rev' "$GPU/manifest.json")
  export GPU_DRP_GIT_REV
  local packed_hash now_hash
  packed_hash=$(node -p 'require(process.argv[1]).src_hash' "$GPU/manifest.json")
  now_hash=$(bash scripts/gpu-machine/src-hash.sh "$RT/app")
  echo "   packed at $(node -p 'require(process.argv[1]).packed_at' "$GPU/manifest.json"), git rev $GPU_DRP_GIT_REV"
  if [ "$packed_hash" != "$now_hash" ]; then
    echo "   WARNING: src/ or bench/ changed since pack.sh: the benchmarks run the packed dist/,"
    echo "            the conformance suites run the TS sources that travelled. Rerun pack.sh."
    GPU_DRP_GIT_REV="$GPU_DRP_GIT_REV+src-changed"
  fi

  # --- Vulkan loader and driver -------------------------------------------------------
  if [ "${GPU_MACHINE_FORCE_DEB_LOADER:-0}" = 1 ] || ! ldc | grep 'libvulkan\.so\.1' >/dev/null; then
    deb_x "$(ls "$GPU"/libvulkan1_*.deb | head -n1)" "$RT/vulkan" || { echo "run.sh: cannot unpack libvulkan1"; return 4; }
    export LD_LIBRARY_PATH="$RT/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "   Vulkan loader: carried $(basename "$(ls "$GPU"/libvulkan1_*.deb | head -n1)") (LD_LIBRARY_PATH)"
  else
    echo "   Vulkan loader: the system's ($(ldc | grep -m1 'libvulkan\.so\.1' | sed 's/.*=> //'))"
  fi
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
    if [ -d "$d" ] && ! ldc | grep 'libGLX_nvidia\.so\.0' >/dev/null; then
      export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"
    fi
  done

  # --- info: the adapter must be hardware --------------------------------------------
  local kind
  kind=$(adapter_kind)
  echo "   adapter: $kind"
  if [ "${kind%% *}" != hardware ] && [ -f "$NV_ICD" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
    export VK_DRIVER_FILES=$NV_ICD
    kind=$(adapter_kind)
    echo "   adapter with VK_DRIVER_FILES=$NV_ICD: $kind"
  fi
  cp "$RT/info.json" "$OUT/info.json" 2>/dev/null
  echo "   VK_DRIVER_FILES=${VK_DRIVER_FILES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  case "${kind%% *}" in
    hardware) note info "ok: ${kind#* }" ;;
    software)
      if [ "$ALLOW_SW" = 1 ]; then
        note info "SOFTWARE adapter allowed: ${kind#* }"
        echo "   WARNING: software adapter; going on because of --allow-software/--dry-run"
      else
        note info "ABORT: only a software adapter: ${kind#* }"
      fi ;;
    *) note info "ABORT: no adapter: ${kind#* }" ;;
  esac
  if [ "${kind%% *}" != hardware ] && { [ "$ALLOW_SW" != 1 ] || [ "${kind%% *}" != software ]; }; then
    echo
    echo "run.sh: ABORT: no hardware WebGPU adapter ($kind)."
    echo "  Vulkan ICDs:"; ls -l /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1 | sed 's/^/    /'
    echo "  loader/driver libraries:"; ldc | grep -Ei 'vulkan|GLX_nvidia' | sed 's/^/    /'
    echo "  gpu-coadd info stderr:"; tail -n 20 "$RT/info.err" | sed 's/^/    /'
    node scripts/gpu-machine/summarize.mjs "$OUT" "$STEPS"
    return 3
  fi

  # --- sizes ---------------------------------------------------------------------------
  local S=4096 NS=${GPU_MACHINE_STACK_N:-} BW="64,256,1024" REP=() TESTS=${GPU_MACHINE_TESTS:-}
  local sw=()
  [ "$ALLOW_SW" = 1 ] && sw=(--allow-software)
  if [ "$DRY" = 1 ]; then
    S=512; NS=${NS:-5}; BW="16,64"; REP=(--repeats 3)
    TESTS=${TESTS:-test/ops/stack.conformance.test.ts}
  fi
  TESTS=${TESTS:-test/ops test/compute/webgpu-backend.test.ts}
  if [ -z "$NS" ]; then
    # each 4096^2 input is 12 B/px = 201 MB; N=32 needs ~6.4 GB of inputs: ask for 3x that
    local avail_kb
    avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
    if [ "${avail_kb:-0}" -gt $((3 * 32 * 201 * 1024)) ]; then NS=10,32; else NS=10; fi
  fi
  local fails=0
  export CI=true

  step bandwidth 40 node scripts/gpu-machine/bandwidth.mjs --sizes-mib "$BW" --repeats 20 --out "$OUT/bandwidth.json" "${sw[@]}" || fails=$((fails + 1))
  # shellcheck disable=SC2086
  step conformance "${GPU_MACHINE_CONFORMANCE_S:-120}" env NO_COLOR=1 node node_modules/vitest/vitest.mjs run $TESTS --reporter=default --reporter=json --outputFile="$OUT/conformance.json" || fails=$((fails + 1))
  local bench=(node dist/src/cli/bin/gpu-bench.js)
  local preset=${GPU_MACHINE_E2E_PRESET:-medium}
  [ "$DRY" = 1 ] && preset=tiny
  # The same data through gpu-coadd on each backend (the data are simulated once, by the
  # first run); both records end up in OUT/e2e.json.
  local e2e=("${bench[@]}" e2e --preset "$preset" --threads "$(nproc)" --skip-peers --warmup 0 --repeat 1 --data "$RT/e2e-data")
  step e2e 200 bash -c '"$@" --backend webgpu --out "$0/e2e-webgpu.json" --report "$0/e2e-webgpu.md" &&
    "$@" --backend cpu --out "$0/e2e-cpu.json" --report "$0/e2e-cpu.md"' "$RT" "${e2e[@]}" || fails=$((fails + 1))
  node -e 'const fs = require("fs"); const [out, ...ins] = process.argv.slice(1);
    const all = ins.filter((f) => fs.existsSync(f)).flatMap((f) => JSON.parse(fs.readFileSync(f, "utf8")));
    if (all.length) fs.writeFileSync(out, JSON.stringify(all, null, 1));' "$OUT/e2e.json" "$RT/e2e-webgpu.json" "$RT/e2e-cpu.json"
  step convolve 100 "${bench[@]}" convolve --backend webgpu --sizes "$S" --widths 5,11,41 --kinds separable,general --warmup 2 "${REP[@]}" --out "$OUT/convolve.json" || fails=$((fails + 1))
  step warp 50 "${bench[@]}" warp --backend webgpu --sizes "$S" --kernels lanczos3 --warmup 2 "${REP[@]}" --out "$OUT/warp.json" || fails=$((fails + 1))
  # --budget 8000: at N=32 one call moves ~6.4 GB host->GPU, so fewer repeats (never under 3)
  step stack 120 "${bench[@]}" stack --backend webgpu --sizes "$S" --n "$NS" --statistics MEAN,MEANCLIP,MEDIAN --warmup 2 --budget 8000 "${REP[@]}" --out "$OUT/stack.json" || fails=$((fails + 1))

  echo
  echo "== done in $((SECONDS - T0))s; files in OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
  node scripts/gpu-machine/summarize.mjs "$OUT" "$STEPS"
  ((fails == 0)) || return 1
  return 0
}

main 2>&1 | tee "$OUT/run.log"
exit "${PIPESTATUS[0]}"
