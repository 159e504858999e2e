/**
 * `detect` on the CPU backend: smoothing through `convolve`, then the run-based labeller
 * of cpu-kernel.ts in row bands on the worker pool, bands joined at their seams on the
 * host, growth by a disc on the runs themselves (grow-runs.ts, also in row bands, joined
 * the same way), then the shared assembly (footprints.ts).
 */
import type { CpuBackend } from '../../compute/cpu/cpu-backend.ts';
import { Mask } from '../../image/mask.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { allocInt32, toSharedFloat32, toSharedInt32 } from '../../image/pixel-buffer.ts';
import type { BandRuns } from './cpu-kernel.ts';
import { assembleFootprints, type FootprintSet, type RasterRuns } from './footprints.ts';
import { type DetectResult, detectResult, smoothForDetection } from './result.ts';
import type { PreparedDetect } from './spec.ts';

const KERNELS = new URL(
  import.meta.url.endsWith('.ts') ? './cpu-kernel.ts' : './cpu-kernel.js',
  import.meta.url,
);

/** Detect on the CPU. */
export async function detectCpu(
  cpu: CpuBackend,
  mi: MaskedImage,
  p: PreparedDetect,
): Promise<DetectResult> {
  const { width: W, height: H } = p;
  const opts = { pixelsPerRow: W, minRowsPerTask: 32 };
  const img = toSharedFloat32(mi.image.data);
  const vr = toSharedFloat32(mi.variance.data);
  const badBands = await cpu.mapRows<object, Int32Array>(
    KERNELS,
    'nonFiniteBand',
    { img, vr, width: W },
    H,
    opts,
  );
  let nBad = 0;
  for (const b of badBands) nBad += b.length;
  const bad = new Int32Array(nBad);
  nBad = 0;
  for (const b of badBands) {
    bad.set(b, nBad);
    nBad += b.length;
  }
  const smoothed = await smoothForDetection(cpu, mi, p, bad);
  const sets: FootprintSet[] = [];
  // Grown runs of each polarity with its mask bits, for the mask kernel.
  const marks: Array<{ y: Int32Array; x0: Int32Array; x1: Int32Array; bits: number }> = [];
  for (const sign of p.polarities) {
    const f = await footprintRuns(cpu, smoothed, p, sign);
    sets.push(f.set);
    const share = (a: Int32Array) => toSharedInt32(a.subarray(0, f.runs.count));
    marks.push({
      y: share(f.runs.y),
      x0: share(f.runs.x0),
      x1: share(f.runs.x1),
      bits: sign > 0 ? p.detectedBits : p.detectedNegativeBits,
    });
  }
  // The mask copy with EDGE on the unsmoothable border and the footprint bits, in row
  // bands.
  const edgeMask = new Mask(W, H, { xy0: mi.mask.xy0, planes: mi.mask.planes });
  await cpu.parallelRows(
    KERNELS,
    'edgeMaskBand',
    {
      src: toSharedInt32(mi.mask.data),
      dst: edgeMask.data,
      width: W,
      height: H,
      border: (p.kernelSize - 1) / 2,
      edgeBits: p.edgeBits,
      marks,
    },
    H,
    opts,
  );
  return detectResult(mi, p, smoothed, sets, edgeMask, true);
}

/** Runs of all bands joined into one raster-ordered list with global union-find roots. */
function joinBands(bands: readonly BandRuns[]): {
  y: Int32Array;
  x0: Int32Array;
  x1: Int32Array;
  root: Int32Array;
  bandOffsets: number[];
} {
  let n = 0;
  const bandOffsets: number[] = [];
  for (const b of bands) {
    bandOffsets.push(n);
    n += b.root.length;
  }
  const y = new Int32Array(n);
  const x0 = new Int32Array(n);
  const x1 = new Int32Array(n);
  const parent = new Int32Array(n);
  bands.forEach((b, bi) => {
    const off = bandOffsets[bi] as number;
    const m = b.root.length;
    for (let i = 0; i < m; i++) {
      y[off + i] = b.runs[3 * i] as number;
      x0[off + i] = b.runs[3 * i + 1] as number;
      x1[off + i] = b.runs[3 * i + 2] as number;
      parent[off + i] = (b.root[i] as number) + off;
    }
  });
  const find = (i: number): number => {
    let x = i;
    while ((parent[x] as number) !== x) {
      const g = parent[parent[x] as number] as number;
      parent[x] = g;
      x = g;
    }
    return x;
  };
  // Seams: the first row of band b against the last row of the runs before it.
  for (let bi = 1; bi < bands.length; bi++) {
    const off = bandOffsets[bi] as number;
    const end = off + (bands[bi] as BandRuns).root.length;
    if (off === end || off === 0) continue;
    const yc = y[off] as number;
    if ((y[off - 1] as number) !== yc - 1) continue;
    let ps = off - 1;
    while (ps > 0 && (y[ps - 1] as number) === yc - 1) ps--;
    let i = ps;
    for (let j = off; j < end && (y[j] as number) === yc; j++) {
      while (i < off && (x1[i] as number) < (x0[j] as number)) i++;
      for (let k = i; k < off && (x0[k] as number) <= (x1[j] as number); k++) {
        const a = find(j);
        const b = find(k);
        if (a < b) parent[b] = a;
        else if (b < a) parent[a] = b;
      }
    }
  }
  const root = new Int32Array(n);
  for (let i = 0; i < n; i++) root[i] = find(i);
  return { y, x0, x1, root, bandOffsets };
}

/** Footprints of one polarity from a smoothed image, on the worker pool. */
export async function footprintsCpu(
  cpu: CpuBackend,
  smoothed: MaskedImage,
  p: PreparedDetect,
  sign: 1 | -1,
): Promise<FootprintSet> {
  return (await footprintRuns(cpu, smoothed, p, sign)).set;
}

/** As footprintsCpu, also returning the grown runs in raster order. */
async function footprintRuns(
  cpu: CpuBackend,
  smoothed: MaskedImage,
  p: PreparedDetect,
  sign: 1 | -1,
): Promise<{ set: FootprintSet; runs: RasterRuns }> {
  const { width: W, height: H } = p;
  const img = smoothed.image.data;
  const vr = smoothed.variance.data;
  const opts = { pixelsPerRow: W, minRowsPerTask: 32 };
  const bands = await cpu.mapRows<object, BandRuns>(
    KERNELS,
    'thresholdBand',
    { img, vr, width: W, height: H, threshold: p.threshold, sign },
    H,
    opts,
  );
  const t = joinBands(bands);
  const nr = t.root.length;
  const size = new Float64Array(nr);
  for (let i = 0; i < nr; i++) {
    const r = t.root[i] as number;
    size[r] = (size[r] as number) + (t.x1[i] as number) - (t.x0[i] as number);
  }
  const minPixels = p.minPixels;
  const keptRun = new Uint8Array(nr);
  let nk = 0;
  for (let i = 0; i < nr; i++) {
    if ((size[t.root[i] as number] as number) >= minPixels) {
      keptRun[i] = 1;
      nk++;
    }
  }
  // Peaks of kept components, in raster order, capped at maxPeaks.
  const peakList: number[] = [];
  let dropped = 0;
  bands.forEach((b, bi) => {
    const off = t.bandOffsets[bi] as number;
    for (let k = 0; k < b.peaks.length; k++) {
      if (keptRun[(b.peakRuns[k] as number) + off] === 0) continue;
      if (peakList.length < p.maxPeaks) peakList.push(b.peaks[k] as number);
      else dropped++;
    }
  });
  // Kept runs (shared, for the growth kernel).
  const ky = allocInt32(nk);
  const kx0 = allocInt32(nk);
  const kx1 = allocInt32(nk);
  const kkey = new Int32Array(nk);
  for (let i = 0, j = 0; i < nr; i++) {
    if (keptRun[i] === 0) continue;
    ky[j] = t.y[i] as number;
    kx0[j] = t.x0[i] as number;
    kx1[j] = t.x1[i] as number;
    kkey[j] = t.root[i] as number;
    j++;
  }
  let runs: RasterRuns;
  if (p.growRadius === 0) {
    runs = { count: nk, y: ky, x0: kx0, x1: kx1, key: kkey };
  } else {
    const grown = await cpu.mapRows<object, BandRuns>(
      KERNELS,
      'growRunsBand',
      { count: nk, y: ky, x0: kx0, x1: kx1, width: W, height: H, radius: p.growRadius },
      H,
      opts,
    );
    const g = joinBands(grown);
    runs = { count: g.root.length, y: g.y, x0: g.x0, x1: g.x1, key: g.root };
  }
  const set = assembleFootprints({
    polarity: sign > 0 ? 'positive' : 'negative',
    width: W,
    height: H,
    xy0: smoothed.xy0,
    runs,
    peaks: Int32Array.from(peakList),
    peaksDropped: dropped,
    smoothed: img,
    smoothedVariance: vr,
    maxPeaksPerFootprint: p.maxPeaksPerFootprint,
  });
  return { set, runs };
}
