/**
 * WGSL sources from the repository's `shaders/` folder. Every op shader is compiled
 * with `shaders/prelude.wgsl` prepended (shared helpers: non-finite tests by bit
 * pattern, the folded-dispatch index). Sources are read once and cached.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ComputeError } from '../errors.ts';

let shaderDir: string | null = null;
const cache = new Map<string, string>();

/** Absolute path of the `shaders/` folder (env GPU_DRP_SHADERS overrides). */
export function findShaderDir(): string {
  if (shaderDir) return shaderDir;
  const env = process.env.GPU_DRP_SHADERS;
  const candidates = env
    ? [env]
    : // src/compute/webgpu -> repo root is 3 up; dist/src/compute/webgpu -> 4 up.
      ['../../../shaders/', '../../../../shaders/'].map((p) =>
        fileURLToPath(new URL(p, import.meta.url)),
      );
  for (const c of candidates) {
    if (existsSync(`${c}/prelude.wgsl`)) {
      shaderDir = c;
      return c;
    }
  }
  throw new ComputeError(
    'SHADERS_NOT_FOUND',
    `WGSL shaders not found (looked in ${candidates.join(', ')}); set GPU_DRP_SHADERS to the shaders/ folder`,
  );
}

function read(name: string): string {
  let s = cache.get(name);
  if (s === undefined) {
    const path = `${findShaderDir()}/${name}`;
    try {
      s = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ComputeError(
        'SHADER_MISSING',
        `cannot read shader ${path}: ${(e as Error).message}`,
      );
    }
    cache.set(name, s);
  }
  return s;
}

/** The WGSL of `shaders/<name>` with the shared prelude in front. */
export function shaderSource(name: string): string {
  return `${read('prelude.wgsl')}\n// ---- ${name} ----\n${read(name)}`;
}
