/** The output of `detect` and the steps both backends share (smoothing, the mask). */
import type { Backend } from '../../compute/select.ts';
import type { Mask } from '../../image/mask.ts';
import { MaskedImage } from '../../image/masked-image.ts';
import { convolve } from '../convolve/index.ts';
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
  /** The PSF-smoothed image and variance that were thresholded. */
  readonly smoothed: MaskedImage;
  /** Threshold in smoothed-noise units, kernel side and growth radius (pixels). */
  readonly threshold: number;
  readonly kernelSize: number;
  readonly growRadius: number;
}

/**
 * Smooth with the PSF Gaussian (LSST: normalized, the unsmoothable border NaN). Pixels
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
): Promise<MaskedImage> {
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
  let input = mi;
  if (bad.length > 0) {
    input = new MaskedImage(mi.image.clone(), mi.mask, mi.variance.clone());
    for (let k = 0; k < bad.length; k++) {
      const i = bad[k] as number;
      input.image.data[i] = 0;
      input.variance.data[i] = 0;
    }
  }
  const out = await convolve(backend, input, {
    kernel: { kind: 'gaussian', sigma: p.psfSigma, size: p.kernelSize },
    edge: 'nan',
  });
  for (let k = 0; k < bad.length; k++) out.image.data[bad[k] as number] = Number.NaN;
  return out;
}

/**
 * The result: mask copy with the border EDGE and footprint bits. `edgeMask`, when given,
 * is that copy with EDGE already set (the CPU backend makes it in row bands), and with
 * the footprint bits too when `bitsSet`.
 */
export function detectResult(
  mi: MaskedImage,
  p: PreparedDetect,
  smoothed: MaskedImage,
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
  };
}
