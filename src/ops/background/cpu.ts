/** `background` on the CPU backend: bin statistics and model evaluation in row bands. */
import type { CpuBackend } from '../../compute/cpu/cpu-backend.ts';
import { ImageF } from '../../image/image.ts';
import { MaskedImage } from '../../image/masked-image.ts';
import {
  allocFloat32,
  allocInt32,
  toSharedFloat32,
  toSharedInt32,
} from '../../image/pixel-buffer.ts';
import { columnSplines } from './model.ts';
import type { BackgroundBins, BackgroundResult, PreparedBackground } from './spec.ts';

const KERNELS = new URL(
  import.meta.url.endsWith('.ts') ? './cpu-kernel.ts' : './cpu-kernel.js',
  import.meta.url,
);

/** Estimate, interpolate and subtract the background on the CPU. */
export async function backgroundCpu(
  cpu: CpuBackend,
  mi: MaskedImage,
  p: PreparedBackground,
): Promise<BackgroundResult> {
  const img = toSharedFloat32(mi.image.data);
  const msk = toSharedInt32(mi.mask.data);
  const nb = p.nx * p.ny;
  const bins: BackgroundBins = {
    nx: p.nx,
    ny: p.ny,
    binX: p.binX,
    binY: p.binY,
    values: allocFloat32(nb),
    counts: allocInt32(nb),
    stdevs: allocFloat32(nb),
  };
  await cpu.parallelRows(
    KERNELS,
    'binStats',
    {
      img,
      msk,
      width: p.width,
      nx: p.nx,
      binX: p.binX,
      binY: p.binY,
      ignoreBits: p.ignoreBits,
      numSigmaClip: p.numSigmaClip,
      numIter: p.numIter,
      values: bins.values,
      counts: bins.counts,
      stdevs: bins.stdevs,
    },
    p.ny,
    { pixelsPerRow: p.width * Math.ceil(p.height / p.ny), minRowsPerTask: 1 },
  );
  return finishBackground(cpu, mi, p, bins);
}

/** Shared tail: column splines on the host, then rows' interpolants and pixels (CPU kernel). */
async function finishBackground(
  cpu: CpuBackend,
  mi: MaskedImage,
  p: PreparedBackground,
  bins: BackgroundBins,
): Promise<BackgroundResult> {
  const splines = columnSplines(p, bins.values);
  const n = p.width * p.height;
  const model = allocFloat32(n);
  const out = allocFloat32(n);
  await cpu.parallelRows(
    KERNELS,
    'applyModel',
    {
      img: toSharedFloat32(mi.image.data),
      model,
      out,
      width: p.width,
      splines,
      interpolation: p.interpolation,
    },
    p.height,
    { pixelsPerRow: p.width, minRowsPerTask: 16 },
  );
  return backgroundResult(mi, p, bins, splines, model, out);
}

/** Assemble the result from the model and subtracted planes. */
export function backgroundResult(
  mi: MaskedImage,
  p: PreparedBackground,
  bins: BackgroundBins,
  tables: { styleX: BackgroundResult['styleX']; styleY: BackgroundResult['styleY'] },
  model: Float32Array,
  out: Float32Array,
): BackgroundResult {
  const xy0 = mi.xy0;
  let goodBins = 0;
  for (const c of bins.counts) if (c > 0) goodBins++;
  return {
    subtracted: new MaskedImage(
      new ImageF(p.width, p.height, { xy0, data: out }),
      mi.mask,
      mi.variance,
    ),
    model: new ImageF(p.width, p.height, { xy0, data: model }),
    bins,
    goodBins,
    styleX: tables.styleX,
    styleY: tables.styleY,
  };
}
