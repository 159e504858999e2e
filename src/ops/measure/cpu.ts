/** `measure` on the CPU backend: sources in bands on the worker pool (float64). */
import type { CpuBackend } from '../../compute/cpu/cpu-backend.ts';
import { toSharedFloat32, toSharedInt32 } from '../../image/pixel-buffer.ts';
import { type MeasureResult, measureResult } from './result.ts';
import type { MeasureInput, PreparedMeasure } from './spec.ts';

const KERNELS = new URL(
  import.meta.url.endsWith('.ts') ? './cpu-kernel.ts' : './cpu-kernel.js',
  import.meta.url,
);

/** Measure every peak on the CPU. */
export async function measureCpu(
  cpu: CpuBackend,
  input: MeasureInput,
  p: PreparedMeasure,
): Promise<MeasureResult> {
  const mi = input.image;
  const vals = new Float64Array(new SharedArrayBuffer(Math.max(8, 8 * p.count * p.nv)));
  const flags = new Int32Array(new SharedArrayBuffer(Math.max(4, 4 * p.count)));
  await cpu.parallelRows(
    KERNELS,
    'measureSources',
    {
      img: toSharedFloat32(mi.image.data),
      vr: toSharedFloat32(mi.variance.data),
      msk: toSharedInt32(mi.mask.data),
      width: p.width,
      height: p.height,
      peakX: toSharedInt32(p.peakX),
      peakY: toSharedInt32(p.peakY),
      sigma: p.sigma,
      psfKind: p.psfKind,
      psfWidth: p.psfWidth,
      psfHeight: p.psfHeight,
      psfKernel: p.psfKernel,
      radii: p.radii,
      centroidIter: p.centroidIter,
      shapeIter: p.shapeIter,
      badBits: p.badBits,
      edgeBits: p.edgeBits,
      satBits: p.satBits,
      intrpBits: p.intrpBits,
      nv: p.nv,
      vals,
      flags,
    },
    p.count,
    // A source costs about as much as ~4000 pixels of a row kernel.
    { pixelsPerRow: 4000, minRowsPerTask: 64 },
  );
  return measureResult(input, p, vals, flags);
}
