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

/**
 * The WGSL of `shaders/<name>` with the shared prelude in front and its includes
 * spliced in. `defines` replace
 * module constants marked `// gpu-drp:define` (for sizes WGSL needs at compile time,
 * such as per-thread array lengths, which override constants cannot size):
 *   `const MAXN: u32 = 64u; // gpu-drp:define` becomes `const MAXN: u32 = <value>u;`.
 */
export function shaderSource(name: string, defines: Readonly<Record<string, number>> = {}): string {
  // `// gpu-drp:include other.wgsl` splices a shared file in (one level, no cycles).
  let body = read(name).replace(/^\/\/ gpu-drp:include ([\w.-]+\.wgsl)$/gm, (_, file: string) => {
    if (file === name) throw new ComputeError('SHADER_INCLUDE', `${name} includes itself`);
    return `// ---- ${file} ----\n${read(file)}\n// ---- back in ${name} ----`;
  });
  for (const [key, value] of Object.entries(defines)) {
    if (!Number.isInteger(value) || value < 0) {
      throw new ComputeError(
        'SHADER_DEFINE',
        `shader define ${key} must be a non-negative integer, got ${value}`,
      );
    }
    const re = new RegExp(`const ${key}: u32 = \\d+u; // gpu-drp:define`);
    if (!re.test(body)) throw new ComputeError('SHADER_DEFINE', `${name} has no define ${key}`);
    body = body.replace(re, `const ${key}: u32 = ${value}u; // gpu-drp:define`);
  }
  return `${read('prelude.wgsl')}\n// ---- ${name} ----\n${body}`;
}
