/**
 * `coaddMean` on the CPU backend: warp one visit, weigh it, add it to the running sums,
 * drop it, next visit; then divide.
 */
import type { CpuBackend } from '../../compute/cpu/cpu-backend.ts';
import { allocFloat32, allocInt32 } from '../../image/pixel-buffer.ts';
import { stackResult } from '../stack/cpu.ts';
import type { StackResult } from '../stack/spec.ts';
import { perWarpWeights } from '../stack/weights.ts';
import { warpCpu } from '../warp/cpu.ts';
import { prepareWarp } from '../warp/spec.ts';
import type { Sums } from './cpu-kernel.ts';
import type { CoaddInput, PreparedCoadd } from './spec.ts';

const KERNELS = new URL(
  import.meta.url.endsWith('.ts') ? './cpu-kernel.ts' : './cpu-kernel.js',
  import.meta.url,
);

/** The coadd on the target box from its planes. */
export function coaddResult(
  input: CoaddInput,
  p: PreparedCoadd,
  out: { img: Float32Array; vr: Float32Array; msk: Int32Array; coverage: Int32Array },
  weights: Float32Array,
): StackResult {
  const { width, height, minX, minY } = input.target.bbox;
  return stackResult({ x: minX, y: minY }, { width, height, planes: p.planes }, out, weights);
}

export async function coaddCpu(
  cpu: CpuBackend,
  input: CoaddInput,
  p: PreparedCoadd,
): Promise<StackResult> {
  const { target } = input;
  const n = target.bbox.area;
  const W = target.bbox.width;
  const H = target.bbox.height;
  const sums: Sums = {
    sx: allocFloat32(n),
    sw: allocFloat32(n),
    sv: allocFloat32(n),
    covW: allocFloat32(n),
    rejW: allocFloat32(n),
    msk: allocInt32(n),
    count: allocInt32(n),
    rejected: allocInt32(n),
  };
  const weights = new Float32Array(input.visits.length);
  for (let v = 0; v < input.visits.length; v++) {
    const sources = input.visits[v] as CoaddInput['visits'][number];
    if (sources.length === 0) continue;
    const pw = prepareWarp({ sources, target }, p.warp);
    const { warp } = await warpCpu(cpu, { sources, target }, pw);
    const w = p.weights
      ? (p.weights[v] as number)
      : ((await perWarpWeights(cpu, [warp], p.badBits))[0] as number);
    weights[v] = w;
    await cpu.parallelRows(
      KERNELS,
      'accumulateRows',
      {
        img: warp.image.data,
        vr: warp.variance.data,
        msk: warp.mask.data,
        sums,
        w,
        badBits: p.badBits,
        noDataBits: p.noDataBits,
        thrBits: p.thrBits,
        width: W,
      },
      H,
      { pixelsPerRow: W, minRowsPerTask: 16 },
    );
  }
  const out = {
    img: allocFloat32(n),
    vr: allocFloat32(n),
    msk: allocInt32(n),
    coverage: allocInt32(n),
  };
  await cpu.parallelRows(
    KERNELS,
    'finalizeRows',
    {
      sums,
      outImg: out.img,
      outVar: out.vr,
      outMsk: out.msk,
      coverage: out.coverage,
      noDataBits: p.noDataBits,
      rejectedBits: p.rejectedBits,
      thrBits: p.thrBits,
      threshold: p.threshold,
      width: W,
    },
    H,
    { pixelsPerRow: W, minRowsPerTask: 16 },
  );
  return coaddResult(input, p, out, weights);
}
