/**
 * Per-warp weights, 1 / mean variance of each warp's good pixels, computed on the host
 * for both backends (so both stack with identical weights). Bands of a fixed height are
 * summed in float64 and combined in row order: the result does not depend on threads.
 */
import { CpuBackend } from '../../compute/cpu/cpu-backend.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { toSharedFloat32, toSharedInt32 } from '../../image/pixel-buffer.ts';

const KERNELS = new URL(
  import.meta.url.endsWith('.ts') ? './cpu-kernel.ts' : './cpu-kernel.js',
  import.meta.url,
);

/** Rows per reduction band (fixed, for reproducible sums). */
const BAND_ROWS = 64;

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
