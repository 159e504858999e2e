/** The output of `detect` and the steps both backends share (smoothing, the mask). */

import type { Backend } from '../../compute/select.ts';
import type { Mask } from '../../image/mask.ts';
import { MaskedImage } from '../../image/masked-image.ts';
import { convolve } from '../convolve/index.ts';
import { selectRank } from '../quickselect.ts';
import { type FootprintSet, setFootprintBits } from './footprints.ts';
import type { PreparedDetect } from './spec.ts';

/** Output of `detect`. */
export interface DetectResult {
  /** Positive footprints (null when only negative polarity was asked for). */
  readonly positive: FootprintSet | null;
  /** Negative footprints (null unless polarity is 'negative' or 'both'). */
  readonly negative: FootprintSet | null;
  /** A copy of the input mask with EDGE, DETECTED and DETECTED_NEGATIVE set. */
  readonly mask: Mask;
  /** The PSF-smoothed image and variance that were thresholded (the variance scaled by noise.ratio^2 when the noise was measured). */
  readonly smoothed: MaskedImage;
  /** Threshold in smoothed-noise units, kernel side and growth radius (pixels). */
  readonly threshold: number;
  readonly kernelSize: number;
  readonly growRadius: number;
  /**
   * The smoothed noise measured with `thresholdNoise: 'measured'` (the smoothed variance
   * in `smoothed` is already scaled by ratio^2), else null.
   */
  readonly noise: SmoothedNoise | null;
}

/** The noise of a smoothed image measured against its predicted variance. */
export interface SmoothedNoise {
  /**
   * Measured / predicted noise of the smoothed image, rounded to 1e-4 (1 when too few
   * pixels were left to measure it); the threshold is effectively multiplied by it.
   */
  readonly ratio: number;
  /** Sampled pixels the ratio was measured on (after leaving out the sources). */
  readonly pixels: number;
  /** Sampling step in x and y, pixels. */
  readonly step: number;
  /** Masking passes that gave an estimate (0: too few pixels, ratio 1). */
  readonly passes: number;
}

/** The PSF-smoothed planes, and the noise measured on them (null: not asked for). */
export class SmoothedForDetection extends MaskedImage {
  readonly noise: SmoothedNoise | null;

  constructor(mi: MaskedImage, noise: SmoothedNoise | null) {
    super(mi.image, mi.mask, mi.variance);
    this.noise = noise;
  }
}

/** Fewest sampled pixels a noise ratio is measured from. */
export const MIN_NOISE_PIXELS = 1000;
/**
 * Pixels beyond this many first-pass sigmas are sources for the noise measurement: high
 * enough that pure noise almost never gets there (3e-7 per pixel; masking noise peaks
 * would bias the measured sigma low), whatever the detection threshold.
 */
export const NOISE_SOURCE_SIGMA = 5;
/**
 * |z| (predicted-noise units) beyond which a pixel is kept in the list the masking passes
 * scan; a pass needs its cut (5 sigma about the median) at or above it, i.e. a measured
 * sigma of at least ~0.5 (the variance plane over-predicting the noise twofold).
 */
const NOISE_LIST_Z = 2.5;
/** Most source-masking passes of the noise measurement. */
export const NOISE_PASSES = 4;
/** About this many pixels are sampled for the noise (a regular grid). */
const NOISE_SAMPLES = 1 << 20;
/** Phi(-1): the fraction of a Gaussian more than one sigma below its mean. */
const LOWER_SIGMA_QUANTILE = 0.15865525393145707;

/** Quantile q of a[0 .. n): the order statistic of rank round((n - 1) q) (moves elements). */
function quantile(a: Float64Array, n: number, q: number): number {
  return selectRank(a, 0, n - 1, Math.round((n - 1) * q));
}

/**
 * Median and robust sigma of a[0 .. n) (moves elements): sigma = median - the 15.87th
 * percentile, the lower half only, because sources (faint ones that no mask catches)
 * only add flux: measured on correlated noise with sources at the e2e bench's density,
 * +1.6% against +2.6% for 0.7413 x IQR.
 */
function robustStats(a: Float64Array, n: number): { median: number; sigma: number } {
  const median = quantile(a, n, 0.5);
  return { median, sigma: median - quantile(a, n, LOWER_SIGMA_QUANTILE) };
}

/**
 * The ratio of the actual noise of a smoothed image to the noise its smoothed variance
 * predicts (float64, host; spec.ts step 2). z = image' / sqrt(variance') on a regular
 * grid of pixels (step s = ceil(sqrt(pixels / 2^20))) that are finite, have positive
 * variance' and none of `noiseBadBits` in `mask`. Starting from sigma = 1 (the variance
 * plane's prediction) and the median m of all samples, each pass leaves out the samples
 * within a square of half-size 2 x growRadius (at least 2 px) of any pixel of the image
 * with |z - m| > NOISE_SOURCE_SIGMA x sigma (the sources, and negative artefacts), then
 * sets m and sigma to the median and median - 15.87th percentile of the samples left
 * (robustStats: the lower half, which sources do not reach); up to
 * NOISE_PASSES passes, until sigma changes by less than 1e-4 of itself (or until the
 * cut falls below NOISE_LIST_Z about 0, which the pixel list kept for the passes cannot
 * serve: a variance plane that over-predicts twofold; the last sigma stands). Starting from
 * the prediction rather than from all pixels matters in crowded fields, where sources
 * inflate an unmasked first estimate so much that its cut would mask nothing. The ratio
 * is the last sigma rounded to 1e-4, so that float32 rounding differences between
 * backends do not reach it; 1 when fewer than MIN_NOISE_PIXELS samples are usable.
 */
export function measureSmoothedNoise(
  smoothed: MaskedImage,
  mask: Mask,
  p: PreparedDetect,
): SmoothedNoise {
  const { width: W, height: H } = p;
  const img = smoothed.image.data;
  const vr = smoothed.variance.data;
  const msk = mask.data;
  const bad = p.noiseBadBits;
  const step = Math.max(1, Math.ceil(Math.sqrt((W * H) / NOISE_SAMPLES)));
  const off = Math.floor(step / 2);
  const nxs = W > off ? Math.floor((W - 1 - off) / step) + 1 : 0;
  const nys = H > off ? Math.floor((H - 1 - off) / step) + 1 : 0;
  // Sampled z by grid index (NaN: not usable), and the kept ones packed for statistics.
  const zs = new Float64Array(nxs * nys).fill(Number.NaN);
  const z = new Float64Array(nxs * nys);
  // One pass over the image: z of every pixel, the samples, and the pixels with |z| >
  // NOISE_LIST_Z (sources and the noise's tail), so that later passes scan only those.
  let hotIdx = new Int32Array(1024);
  let hotZ = new Float32Array(1024);
  let nHot = 0;
  let n = 0;
  const list2 = NOISE_LIST_Z * NOISE_LIST_Z;
  for (let y = 0; y < H; y++) {
    const row = y * W;
    // |z| > L as a^2 > L^2 v: no square root for the (many) quiet pixels.
    for (let x = 0; x < W; x++) {
      const q = row + x;
      const v = vr[q] as number;
      const a = img[q] as number;
      if (!(a * a > list2 * v && v > 0 && v < Number.POSITIVE_INFINITY)) continue;
      if (nHot === hotIdx.length) {
        const gi = new Int32Array(2 * nHot);
        gi.set(hotIdx);
        hotIdx = gi;
        const gz = new Float32Array(2 * nHot);
        gz.set(hotZ);
        hotZ = gz;
      }
      hotIdx[nHot] = q;
      hotZ[nHot] = a / Math.sqrt(v);
      nHot++;
    }
    if (y < off || (y - off) % step !== 0) continue;
    const j = (y - off) / step;
    for (let i = 0; i < nxs; i++) {
      const q = row + off + i * step;
      const v = vr[q] as number;
      const a = img[q] as number;
      if (
        v > 0 &&
        v < Number.POSITIVE_INFINITY &&
        a - a === 0 &&
        ((msk[q] as number) & bad) === 0
      ) {
        const zz = a / Math.sqrt(v);
        zs[j * nxs + i] = zz;
        z[n++] = zz;
      }
    }
  }
  if (n < MIN_NOISE_PIXELS) return { ratio: 1, pixels: n, step, passes: 0 };
  let center = quantile(z, n, 0.5);
  let sigma = 1;
  let pixels = n;
  let passes = 0;
  const g = Math.max(2, 2 * p.growRadius);
  // hit[i * H + y]: row y has a source pixel within g columns of sample column i
  // (column-major, so that the vertical pass below reads it in order).
  const hit = new Uint8Array(H * nxs);
  const colPrefix = new Int32Array(H + 1);
  for (let pass = 0; pass < NOISE_PASSES; pass++) {
    const cut = NOISE_SOURCE_SIGMA * sigma;
    // The list holds every pixel beyond the cut only while cut - |center| >= NOISE_LIST_Z.
    if (cut - Math.abs(center) < NOISE_LIST_Z) break;
    hit.fill(0);
    for (let h = 0; h < nHot; h++) {
      if (!(Math.abs((hotZ[h] as number) - center) > cut)) continue;
      const q = hotIdx[h] as number;
      const y = (q / W) | 0;
      const x = q - y * W;
      const i0 = Math.max(0, Math.ceil((x - g - off) / step));
      const i1 = Math.min(nxs - 1, Math.floor((x + g - off) / step));
      for (let i = i0; i <= i1; i++) hit[i * H + y] = 1;
    }
    let kept = 0;
    for (let i = 0; i < nxs; i++) {
      let c = 0;
      const o = i * H;
      for (let y = 0; y < H; y++) {
        c += hit[o + y] as number;
        colPrefix[y + 1] = c;
      }
      for (let j = 0; j < nys; j++) {
        const zz = zs[j * nxs + i] as number;
        if (Number.isNaN(zz)) continue;
        const y = off + j * step;
        if (
          (colPrefix[Math.min(H, y + g + 1)] as number) > (colPrefix[Math.max(0, y - g)] as number)
        )
          continue;
        z[kept++] = zz;
      }
    }
    if (kept < MIN_NOISE_PIXELS) break;
    const st = robustStats(z, kept);
    if (!(st.sigma > 0)) break;
    passes++;
    pixels = kept;
    const done = Math.abs(st.sigma - sigma) < 1e-4 * st.sigma;
    center = st.median;
    sigma = st.sigma;
    if (done) break;
  }
  const ratio = passes > 0 ? Math.round(sigma * 1e4) / 1e4 : 1;
  return { ratio, pixels, step, passes };
}

/**
 * Smooth with the PSF Gaussian (LSST: normalized, the unsmoothable border NaN). With
 * `thresholdNoise: 'measured'` the noise is then measured ({@link measureSmoothedNoise})
 * and the smoothed variance scaled by its ratio squared. Pixels
 * whose image or variance is not finite enter the smoothing as 0 (background-subtracted
 * sky, no variance) so that one NaN does not blank a kernel-sized hole, and come out
 * NaN themselves so that they are never detected. `nonFinite` (ascending pixel indices
 * of those pixels) may be given when the caller has found them already.
 */
export async function smoothForDetection(
  backend: Backend,
  mi: MaskedImage,
  p: PreparedDetect,
  nonFinite?: ArrayLike<number>,
): Promise<SmoothedForDetection> {
  let bad: ArrayLike<number>;
  if (nonFinite) bad = nonFinite;
  else {
    const img = mi.image.data;
    const vr = mi.variance.data;
    const list: number[] = [];
    for (let i = 0; i < img.length; i++) {
      const a = img[i] as number;
      const v = vr[i] as number;
      if (a - a !== 0 || v - v !== 0) list.push(i);
    }
    bad = list;
  }
  // Non-finite pixels enter the smoothing as 0 (in the convolution's own staging, so the
  // input planes are read as they are: on a GPU, a coadd kept on the device is not
  // uploaded again) and come out NaN.
  const out = await convolve(backend, mi, {
    kernel: { kind: 'gaussian', sigma: p.psfSigma, size: p.kernelSize },
    edge: 'nan',
    nonFinite: 'zero',
  });
  for (let k = 0; k < bad.length; k++) out.image.data[bad[k] as number] = Number.NaN;
  if (p.thresholdNoise !== 'measured') return new SmoothedForDetection(out, null);
  const noise = measureSmoothedNoise(out, mi.mask, p);
  if (noise.ratio !== 1) {
    // Scaling variance' by r^2 moves the float32 cut of both backends to t x r x sigma'.
    const r2 = noise.ratio * noise.ratio;
    const v = out.variance.data;
    for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * r2;
  }
  return new SmoothedForDetection(out, noise);
}

/**
 * The result: mask copy with the border EDGE and footprint bits. `edgeMask`, when given,
 * is that copy with EDGE already set (the CPU backend makes it in row bands), and with
 * the footprint bits too when `bitsSet`.
 */
export function detectResult(
  mi: MaskedImage,
  p: PreparedDetect,
  smoothed: SmoothedForDetection,
  sets: readonly FootprintSet[],
  edgeMask?: Mask,
  bitsSet = false,
): DetectResult {
  const mask = edgeMask ?? mi.mask.clone();
  const m = mask.data;
  const { width: W, height: H } = p;
  const r = (p.kernelSize - 1) / 2;
  for (let y = 0; y < H && !edgeMask; y++) {
    const row = y * W;
    if (y < r || y >= H - r) {
      for (let x = 0; x < W; x++) m[row + x] = (m[row + x] as number) | p.edgeBits;
    } else {
      for (let x = 0; x < Math.min(r, W); x++) m[row + x] = (m[row + x] as number) | p.edgeBits;
      for (let x = Math.max(0, W - r); x < W; x++) m[row + x] = (m[row + x] as number) | p.edgeBits;
    }
  }
  let positive: FootprintSet | null = null;
  let negative: FootprintSet | null = null;
  for (const s of sets) {
    if (s.polarity === 'positive') {
      positive = s;
      if (!bitsSet) setFootprintBits(s, m, p.detectedBits);
    } else {
      negative = s;
      if (!bitsSet) setFootprintBits(s, m, p.detectedNegativeBits);
    }
  }
  return {
    positive,
    negative,
    mask,
    smoothed,
    threshold: p.threshold,
    kernelSize: p.kernelSize,
    growRadius: p.growRadius,
    noise: smoothed.noise,
  };
}
