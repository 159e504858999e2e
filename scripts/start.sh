#!/usr/bin/env bash
# The main job on embedded defaults (`npm start`): set up, build, report the compute
# backends, and run the convolve benchmark's quick pass on every usable backend.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/setup-webgpu.sh
npm run --silent build
node dist/src/cli/bin/gpu-coadd.js info
node dist/src/cli/bin/gpu-bench.js convolve --quick --no-save
