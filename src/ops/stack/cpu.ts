/** `stack` on the CPU backend: row bands of cpu-kernel.ts#stackRows on the worker pool. */
import type { CpuBackend } from '../../compute/cpu/cpu-backend.ts';
import type { Point2I } from '../../geom/box.ts';
import { ImageF } from '../../image/image.ts';
import { Mask } from '../../image/mask.ts';
import { MaskedImage } from '../../image/masked-image.ts';
import {
  allocFloat32,
  allocInt32,
  toSharedFloat32,
  toSharedInt32,
} from '../../image/pixel-buffer.ts';
import type { PreparedStack, StackResult } from './spec.ts';
import { perWarpWeights } from './weights.ts';

const KERNELS = new URL(
  import.meta.url.endsWith('.ts') ? './cpu-kernel.ts' : './cpu-kernel.js',
  import.meta.url,
);

/** Resolve the weights a stack uses: explicit, per-warp (computed) or per-pixel (none). */
export async function resolveWeights(
  cpu: CpuBackend,
  inputs: readonly MaskedImage[],
  p: PreparedStack,
): Promise<Float32Array | null> {
  if (p.perPixel) return null;
  return p.weights ?? perWarpWeights(cpu, inputs, p.badBits);
}

/** Wrap output planes (on the grid of size p.width x p.height at `xy0`) as the result. */
export function stackResult(
  xy0: Point2I,
  p: Pick<PreparedStack, 'width' | 'height' | 'planes'>,
  planes: { img: Float32Array; vr: Float32Array; msk: Int32Array; coverage: Int32Array },
  weights: Float32Array | null,
): StackResult {
  const { width: W, height: H } = p;
  return {
    coadd: new MaskedImage(
      new ImageF(W, H, { xy0, data: planes.img }),
      new Mask(W, H, { xy0, data: planes.msk, planes: p.planes }),
      new ImageF(W, H, { xy0, data: planes.vr }),
    ),
    coverage: planes.coverage,
    weights,
  };
}

export async function stackCpu(
  cpu: CpuBackend,
  inputs: readonly MaskedImage[],
  p: PreparedStack,
): Promise<StackResult> {
  const weights = await resolveWeights(cpu, inputs, p);
  const n = p.width * p.height;
  const out = {
    img: allocFloat32(n),
    vr: allocFloat32(n),
    msk: allocInt32(n),
    coverage: allocInt32(n),
  };
  await cpu.parallelRows(
    KERNELS,
    'stackRows',
    {
      imgs: inputs.map((m) => toSharedFloat32(m.image.data)),
      vrs: inputs.map((m) => toSharedFloat32(m.variance.data)),
      msks: inputs.map((m) => toSharedInt32(m.mask.data)),
      width: p.width,
      statCode: p.statCode,
      numSigmaClip: p.numSigmaClip,
      numIter: p.numIter,
      perPixel: p.perPixel,
      weights: weights ?? new Float32Array(p.n),
      badBits: p.badBits,
      noDataBits: p.noDataBits,
      clippedBits: p.clippedBits,
      rejectedBits: p.rejectedBits,
      thresholdBits: p.thresholdBits,
      thresholds: p.thresholds,
      outImg: out.img,
      outVar: out.vr,
      outMsk: out.msk,
      coverage: out.coverage,
    },
    p.height,
    { pixelsPerRow: p.width * p.n * 4, minRowsPerTask: 4 },
  );
  return stackResult((inputs[0] as MaskedImage).xy0, p, out, weights);
}
