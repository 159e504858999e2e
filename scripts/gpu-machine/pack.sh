#!/usr/bin/env bash
# Pack what the lent GPU machine needs into .gpu/ (git-ignored), run HERE (Debian 12,
# x86-64, Node 20 and node_modules installed). See scripts/gpu-machine/README.md.
#
# .gpu/ after a run:
#   node.xz               this machine's node binary
#   node_modules.tar.xz   run-time node_modules: the project's production dependencies
#                         (webgpu with linux-x64 dawn.node only, zod, yargs, wabt,
#                         hyparquet-writer, hyparquet) and vitest with its run-time
#                         dependencies (for the conformance suites from the TS sources)
#   dist.tar.xz           the build (dist/ is git-ignored, so it travels in here)
#   libvulkan1_*.deb      Debian's Vulkan loader, used there only when the machine has none
#   manifest.json         git revision, date, node version, source hash, sizes
#   SHA256SUMS            checked by run.sh before unpacking
#
# Options (environment):
#   PACK_XZ_THREADS   xz threads (default 1: the machine is shared; 0 = all cores)
#   PACK_SKIP_BUILD=1 reuse the existing dist/ (default: npm run build first)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
GPU=$ROOT/.gpu
LIMIT_MIB=64
XZT=${PACK_XZ_THREADS:-1}

log() { printf 'pack: %s\n' "$*" >&2; }
die() { printf 'pack: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "this machine is $(uname -m); the GPU machine is x86-64 (build there or on x86-64)"
git check-ignore -q .gpu/x || die ".gpu/ is not git-ignored here: it would travel twice"
command -v node >/dev/null || die "node not on PATH"
command -v xz >/dev/null || die "xz not installed (apt-get install xz-utils)"
[ -d node_modules/webgpu/dist/linux-x64 ] || die "node_modules/webgpu missing: run npm ci first"

if [ "${PACK_SKIP_BUILD:-0}" != 1 ]; then
  log "building (npm run build)"
  npm run --silent build
fi
[ -f dist/src/cli/bin/gpu-coadd.js ] && [ -f dist/src/cli/bin/gpu-bench.js ] ||
  die "dist/src/cli/bin/{gpu-coadd,gpu-bench}.js missing after the build"

stage=$(mktemp -d /tmp/gpu-pack.XXXXXX)
trap 'rm -rf "$stage"' EXIT
rm -rf "$GPU.new"
mkdir -p "$GPU.new"

# --- node ----------------------------------------------------------------------------
node_bin=$(readlink -f "$(command -v node)")
log "node $(node --version) from $node_bin -> node.xz"
xz -T"$XZT" -9 -c "$node_bin" >"$GPU.new/node.xz"

# --- node_modules --------------------------------------------------------------------
# Roots: every run-time dependency in package.json (the CLIs import the Butler, so the
# SQL, S3 and WebDAV clients load too), plus vitest (the conformance suites). vitest's
# closure brings vite, esbuild (linux-x64 binary), rollup (linux-x64-gnu binary) and,
# through vite's optional peer, tsx.
mapfile -t deps < <(node -e 'for (const d of Object.keys(require(process.argv[1]).dependencies ?? {})) console.log(d)' "$ROOT/package.json")
roots=("${deps[@]}" vitest)
mapfile -t pkgs < <(node scripts/gpu-machine/closure.mjs "$ROOT" "${roots[@]}")
# Keep only the outermost folders (a nested node_modules travels with its parent).
top=()
for p in "${pkgs[@]}"; do
  case "$p" in node_modules/*/node_modules/*) ;; *) top+=("$p") ;; esac
done
case " ${top[*]} " in *" node_modules/webgpu "*) ;; *) die "closure lacks webgpu" ;; esac
log "node_modules: ${#top[@]} packages"
tar -C "$ROOT" -cf - \
  --exclude='node_modules/webgpu/dist/darwin-*' \
  --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' \
  --exclude='node_modules/webgpu/build' \
  --exclude='node_modules/wabt/bin' \
  --exclude='node_modules/zod/src' \
  --exclude='node_modules/better-sqlite3/deps' \
  --exclude='node_modules/better-sqlite3/src' \
  --exclude='node_modules/better-sqlite3/build/Release/obj.target' \
  --exclude='node_modules/better-sqlite3/build/Release/obj' \
  --exclude='node_modules/better-sqlite3/build/Release/.deps' \
  --exclude='node_modules/better-sqlite3/build/Release/test_extension.node' \
  --exclude='dist-types' \
  --exclude='node_modules/@types' \
  --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' --exclude='*.map' \
  --exclude='*.md' --exclude='*.markdown' \
  "${top[@]}" | tar -C "$stage" -xf -
[ -f "$stage/node_modules/webgpu/dist/linux-x64/dawn.node" ] || die "dawn.node did not make it into the stage"
[ -f "$stage/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ] || die "better_sqlite3.node did not make it into the stage"
extra=$(find "$stage/node_modules/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64)
[ -z "$extra" ] || die "other Dawn builds left in: $extra"
log "node_modules staged: $(du -sh "$stage/node_modules" | cut -f1) raw -> node_modules.tar.xz"
XZ_OPT="-9 -T$XZT" tar -C "$stage" -cJf "$GPU.new/node_modules.tar.xz" node_modules

# --- dist ----------------------------------------------------------------------------
log "dist/ -> dist.tar.xz"
XZ_OPT="-9 -T$XZT" tar -C "$ROOT" -cJf "$GPU.new/dist.tar.xz" \
  --exclude='*.d.ts' --exclude='*.map' --exclude='*.tsbuildinfo' dist

# --- Vulkan loader -------------------------------------------------------------------
log "apt-get download libvulkan1"
if ! (cd "$GPU.new" && apt-get download libvulkan1 >/dev/null 2>&1); then
  log "apt-get download failed; apt-get update and again"
  apt-get update -qq >/dev/null 2>&1 || true
  (cd "$GPU.new" && apt-get download libvulkan1 >/dev/null) || die "apt-get download libvulkan1 failed"
fi
deb=$(cd "$GPU.new" && ls libvulkan1_*.deb | head -n1)
dpkg-deb -c "$GPU.new/$deb" | grep 'libvulkan\.so\.1' >/dev/null || die "$deb holds no libvulkan.so.1"

# --- manifest ------------------------------------------------------------------------
rev=$(git rev-parse --short=12 HEAD)
[ -z "$(git status --porcelain --untracked-files=no -- src bench shaders package.json)" ] || rev="$rev-dirty"
src_hash=$(bash scripts/gpu-machine/src-hash.sh)
GPU_DIR="$GPU.new" REV="$rev" SRC_HASH="$src_hash" DEB="$deb" node --input-type=module -e '
  import { readdirSync, statSync, writeFileSync } from "node:fs";
  const dir = process.env.GPU_DIR;
  const files = Object.fromEntries(readdirSync(dir).sort().map((f) => [f, statSync(`${dir}/${f}`).size]));
  const m = {
    git_rev: process.env.REV,
    src_hash: process.env.SRC_HASH,
    packed_at: new Date().toISOString(),
    node: process.version,
    vulkan_deb: process.env.DEB,
    files,
  };
  writeFileSync(`${dir}/manifest.json`, `${JSON.stringify(m, null, 2)}\n`);
'
(cd "$GPU.new" && sha256sum node.xz node_modules.tar.xz dist.tar.xz "$deb" manifest.json >SHA256SUMS)

rm -rf "$GPU"
mv "$GPU.new" "$GPU"

# --- sizes ---------------------------------------------------------------------------
echo
echo "== .gpu/ (carry this folder)"
ls -l "$GPU" | awk 'NR>1 {printf "  %-32s %8.2f MiB\n", $9, $5/1048576}'
gpu_b=$(du -sb "$GPU" | cut -f1)
# What travels besides: tracked files and untracked files that git does not ignore.
tree_b=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } |
  xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
total_b=$((gpu_b + tree_b))
awk -v g="$gpu_b" -v t="$tree_b" -v s="$total_b" -v l="$LIMIT_MIB" 'BEGIN {
  printf "  .gpu/ total                      %8.2f MiB\n", g/1048576
  printf "  working tree (tracked+untracked) %8.2f MiB\n", t/1048576
  printf "  travels in all                   %8.2f MiB of %d MiB (%.1f MiB margin)\n", s/1048576, l, l - s/1048576
}'
if [ "$total_b" -gt $(((LIMIT_MIB - 4) * 1048576)) ]; then
  die "less than 4 MiB margin under the ${LIMIT_MIB} MiB carry limit"
fi
echo "git_rev $rev; device call: carry [\".gpu\"], command 'bash scripts/gpu-machine/run.sh'"
