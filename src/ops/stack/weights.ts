/**
 * Per-warp weights, 1 / mean variance of each warp's good pixels (mask without the bad
 * planes, image and variance finite), the same to the bit on every backend and for any
 * cut of the work. The sum is defined as:
 * - each row is cut in chunks of 64 pixels (the last one padded with +0); a chunk's sum
 *   is float32, by the pairwise tree s[i] += s[i + h] for h = 32, 16, 8, 4, 2, 1;
 * - chunk sums are added in float64, chunks of a row in order, rows in order, within
 *   bands of 64 rows (BAND_ROWS) counted from the warp's first row;
 * - band sums are added in float64 in band order.
 * The CPU backend evaluates it with a WASM SIMD kernel (./wat.ts `varsum`) over host
 * warps; the WebGPU backend with shaders/weights.wgsl over a warp that stays on the
 * device (./gpu.ts warpWeightsGpu), the host adding the chunk sums ({@link weightFromChunks}).
 */
import { CpuBackend } from '../../compute/cpu/cpu-backend.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { toSharedFloat32, toSharedInt32 } from '../../image/pixel-buffer.ts';

const KERNELS = new URL(
  import.meta.url.endsWith('.ts') ? './cpu-kernel.ts' : './cpu-kernel.js',
  import.meta.url,
);

/** Rows per reduction band (fixed, for reproducible sums). */
export const BAND_ROWS = 64;

/** Weights 1 / mean(variance) over good pixels; 0 for a warp with no good pixel. */
export async function perWarpWeights(
  cpu: CpuBackend,
  inputs: readonly MaskedImage[],
  badBits: number,
): Promise<Float32Array> {
  const first = inputs[0] as MaskedImage;
  const parts = await cpu.mapRows<object, { sums: number[]; counts: number[] }>(
    KERNELS,
    'varianceSums',
    {
      imgs: inputs.map((m) => toSharedFloat32(m.image.data)),
      vrs: inputs.map((m) => toSharedFloat32(m.variance.data)),
      msks: inputs.map((m) => toSharedInt32(m.mask.data)),
      width: first.width,
      badBits,
    },
    first.height,
    { pixelsPerRow: first.width * inputs.length, bandRows: BAND_ROWS },
  );
  const w = new Float32Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    let s = 0;
    let c = 0;
    for (const part of parts) {
      s += part.sums[i] as number;
      c += part.counts[i] as number;
    }
    w[i] = c > 0 && s > 0 ? c / s : 0;
  }
  return w;
}

/** A CPU backend for host-side reductions when the caller has none (GPU path). */
let hostCpu: CpuBackend | null = null;
export function hostBackend(): CpuBackend {
  hostCpu ??= new CpuBackend({});
  return hostCpu;
}

/**
 * The weight of one warp from its chunk sums (as shaders/weights.wgsl leaves them: per
 * chunk, row-major, the float32 sum's bits and the good-pixel count), `chunks` per row,
 * combined as the module comment defines. 0 when no pixel is good.
 */
export function weightFromChunks(sums: Uint32Array, rows: number, chunks: number): number {
  const f = new Float32Array(sums.buffer, sums.byteOffset, sums.length);
  let total = 0;
  let count = 0;
  for (let b = 0; b < rows; b += BAND_ROWS) {
    let band = 0;
    const end = Math.min(rows, b + BAND_ROWS) * chunks;
    for (let g = b * chunks; g < end; g++) {
      band += f[2 * g] as number;
      count += sums[2 * g + 1] as number;
    }
    total += band;
  }
  return Math.fround(count > 0 && total > 0 ? count / total : 0);
}
