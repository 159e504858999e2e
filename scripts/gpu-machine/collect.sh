#!/usr/bin/env bash
# Copy what run.sh returned from the GPU machine (the device tool's files_at folder, or
# any folder holding run.sh's $OUT files) into bench/results/, named by op, card and the
# run's UTC time, and print the git commands to commit them. Run HERE, from anywhere:
#   bash scripts/gpu-machine/collect.sh <returned folder>
# Copies (those present):
#   bench/results/<op>-webgpu-hw-<card>-<stamp>.json        op = e2e, convolve, warp, stack
#   bench/results/bandwidth-webgpu-hw-<card>-<stamp>.json   the copy-bandwidth probe
#   (webgpu-sw instead of webgpu-hw when the adapter was a software one)
#   bench/results/info-<card>-<stamp>.json                  gpu-coadd info --json there
#   bench/results/gpu-machine-<card>-<stamp>.txt            summary.txt (table, step status)
# run.log and conformance.json are not copied (read them where they are).
set -euo pipefail
src=${1:?usage: collect.sh <folder with run.sh output>}
[ -d "$src" ] || { echo "collect.sh: $src is not a folder" >&2; exit 2; }
src=$(cd "$src" && pwd)
cd "$(dirname "$0")/../.."
[ -f "$src/summary.txt" ] || { echo "collect.sh: $src/summary.txt missing: not run.sh output?" >&2; exit 2; }

# Card: nvidia-smi's name from the summary ("card ..." line), else the adapter description.
card=$(sed -n 's/^card *//p' "$src/summary.txt" | cut -d, -f1)
if [ -z "$card" ] && [ -f "$src/info.json" ]; then
  card=$(node -p 'const a = require(process.argv[1]).backends.webgpu.adapter; a ? a.description || a.device : ""' "$src/info.json")
fi
slug=$(printf '%s' "${card:-unknown}" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9]\{1,\}/-/g; s/^-//; s/-$//')
# Stamp: the summary's date line (when run.sh finished there).
date=$(sed -n 's/^date *//p' "$src/summary.txt")
stamp=$(printf '%s' "${date:-$(date -u +%FT%TZ)}" | sed 's/[-:]//g; s/\.[0-9]*Z$/Z/')
tag=webgpu-hw
if grep 'SOFTWARE' "$src/summary.txt" >/dev/null; then
  tag=webgpu-sw
  echo "collect.sh: WARNING: the summary names a SOFTWARE adapter: these are not GPU numbers" >&2
fi

mkdir -p bench/results
copied=()
cp_to() { # <file in src> <name in bench/results>
  if [ -f "$src/$1" ]; then
    cp "$src/$1" "bench/results/$2"
    chmod u+w "bench/results/$2"
    copied+=("bench/results/$2")
  fi
}
for op in e2e convolve warp stack; do cp_to "$op.json" "$op-$tag-$slug-$stamp.json"; done
cp_to bandwidth.json "bandwidth-$tag-$slug-$stamp.json"
cp_to info.json "info-$slug-$stamp.json"
cp_to summary.txt "gpu-machine-$slug-$stamp.txt"

echo "card: ${card:-unknown}; run finished ${date:-?}"
printf '  %s\n' "${copied[@]}"
echo
echo "commit them (only these paths):"
echo "  git add ${copied[*]}"
echo "  git commit -m \"bench: GPU results on ${card:-unknown} (${date%%T*}, $(sed -n 's/^git rev *//p' "$src/summary.txt" | cut -d' ' -f1))\" -- ${copied[*]}"
