#!/usr/bin/env bash
# The main job on embedded defaults (`npm start`): set up, build, report the compute
# backends, then `gpu-coadd demo`: simulate a small field (4 visits x 2 CCDs) and coadd
# it onto sky-map patches (warp Lanczos3, MEANCLIP stack, detect, measure) on the best
# backend. Outputs go to ./gpu-coadd-demo (coadd FITS, catalogs, summary.json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/setup-webgpu.sh
npm run --silent build
node dist/src/cli/bin/gpu-coadd.js info
node dist/src/cli/bin/gpu-coadd.js demo --out gpu-coadd-demo --clobber
