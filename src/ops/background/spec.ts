/**
 * `background`: a smooth sky model estimated on a mesh, interpolated to every pixel and
 * subtracted (LSST's SubtractBackgroundTask with binSize 128, MEANCLIP, AKIMA_SPLINE,
 * REDUCE_INTERP_ORDER).
 *
 * Mesh: nx = ceil(width / binSize) by ny = ceil(height / binSize) bins; bin i along x
 * covers columns [floor(i W / nx), floor((i + 1) W / nx)) (so bins differ by at most one
 * pixel), likewise along y; a bin's centre is (first + last) / 2 in 0-based pixels
 * relative to xy0.
 *
 * Per bin, over its good pixels G (finite image value, no bit of `ignorePlanes` set;
 * default BAD, EDGE, DETECTED, DETECTED_NEGATIVE, NO_DATA), n = |G|:
 * - n = 0: the bin is empty (NaN) and left out of the interpolation.
 * - Quartiles are order statistics: q(f) = the element of rank floor(f (n - 1)) (0-based,
 *   ascending) for f = 0.25, 0.5, 0.75 (exact on both backends: radix select on GPU).
 * - Clipping (afw MEANCLIP): centre = q(0.5), half-width h = k * 0.741 * (q(0.75) - q(0.25));
 *   then `numIter` times: keep |x - centre| <= h (everything when h is not > 0), mean =
 *   sum / count, s = sqrt(sum (x - mean)^2 / (count - 1)) (0 for count < 2), centre =
 *   mean, h = k s. The bin's value is the last mean.
 * - Arithmetic: float32. Sums run over 256 lanes (pixel j of the bin, row-major within
 *   the bin, goes to lane j mod 256, lanes accumulate in order) and the lanes are added
 *   as a binary tree (lane l += lane l + s for s = 128, 64, ..., 1) -- the GPU's
 *   workgroup reduction, which the CPU reproduces exactly.
 *
 * Interpolation (interpolate.ts, float64 on the host): first along y for each column of
 * bins (through its non-empty bins), giving every row's value at each bin-column centre,
 * then along x for each row, through the columns that have any non-empty bin. Style
 * `akima` (default), `cubic` (natural spline), `linear` or `constant`, reduced when a
 * line has too few points; beyond the end bin centres the interpolant is extrapolated
 * quadratically (afw). The per-row x interpolants are stored as float32 piecewise-cubic
 * coefficients and evaluated per pixel in float32 on both backends:
 *   model = ((c3 t + c2) t + c1) t + c0, t = x - knot (float32), image' = image - model.
 *
 * No usable pixel in the whole image: the model is 0 everywhere and `goodBins` is 0
 * (callers decide; detect refuses such images for lack of variance anyway).
 *
 * Mask and variance of the result are the input's own planes (not copied).
 */
import { z } from 'zod';
import type { ImageF } from '../../image/image.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { OpInputError } from '../errors.ts';
import type { InterpStyle } from './interpolate.ts';

const OP = 'background';

/** LSST's default planes ignored when estimating the background. */
export const DEFAULT_IGNORE_PLANES: readonly string[] = [
  'BAD',
  'EDGE',
  'DETECTED',
  'DETECTED_NEGATIVE',
  'NO_DATA',
];

export const BackgroundParamsSchema = z.object({
  /** Bin side in pixels (LSST: 128). */
  binSize: z.number().int().min(4).max(65536).default(128),
  /** Clipping half-width in standard deviations (afw numSigmaClip: 3). */
  numSigmaClip: z.number().positive().default(3),
  /** Clipping iterations (afw numIter: 3). */
  numIter: z.number().int().min(1).max(20).default(3),
  /** Mask planes whose pixels are ignored; planes absent from the mask are skipped. */
  ignorePlanes: z.array(z.string()).default([...DEFAULT_IGNORE_PLANES]),
  /** Interpolant (reduced automatically when a line has too few bins). */
  interpolation: z.enum(['akima', 'cubic', 'linear', 'constant']).default('akima'),
});
/** Parameters of `background` (all optional). */
export type BackgroundParams = z.input<typeof BackgroundParamsSchema>;

/** What both implementations need. */
export interface PreparedBackground {
  readonly width: number;
  readonly height: number;
  readonly nx: number;
  readonly ny: number;
  /** Bin edges: bin i covers [x0[i], x0[i + 1]) (0-based, relative to xy0). */
  readonly binX: Int32Array;
  readonly binY: Int32Array;
  readonly ignoreBits: number;
  readonly numSigmaClip: number;
  readonly numIter: number;
  readonly interpolation: InterpStyle;
}

/** The mesh statistics of one estimate. */
export interface BackgroundBins {
  readonly nx: number;
  readonly ny: number;
  /** Bin edges along x (nx + 1) and y (ny + 1), 0-based pixels relative to xy0. */
  readonly binX: Int32Array;
  readonly binY: Int32Array;
  /** Clipped mean per bin, row-major (iy * nx + ix), image units; NaN for empty bins. */
  readonly values: Float32Array;
  /** Good pixels per bin (before clipping). */
  readonly counts: Int32Array;
  /** Clipped standard deviation per bin (last iteration), image units; NaN when empty. */
  readonly stdevs: Float32Array;
}

/** Output of `background`. */
export interface BackgroundResult {
  /** image - model; the mask and variance planes are the input's own. */
  readonly subtracted: MaskedImage;
  /** The background model at every pixel (image units), same xy0. */
  readonly model: ImageF;
  readonly bins: BackgroundBins;
  /** Bins with at least one good pixel. */
  readonly goodBins: number;
  /** Interpolants used along y (per bin column, the highest order) and along x. */
  readonly styleY: InterpStyle | null;
  readonly styleX: InterpStyle | null;
}

/** Validate and lay out the mesh. */
export function prepareBackground(mi: MaskedImage, params: BackgroundParams): PreparedBackground {
  const parsed = BackgroundParamsSchema.safeParse(params ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || 'params';
    throw new OpInputError(
      OP,
      `invalid ${path}: ${issue?.message ?? 'bad value'}; see BackgroundParams`,
    );
  }
  const p = parsed.data;
  const { width, height } = mi;
  if (width === 0 || height === 0) {
    throw new OpInputError(OP, `the image is ${width}x${height}; give it at least one pixel`);
  }
  let ignoreBits = 0;
  for (const name of p.ignorePlanes) {
    if (mi.mask.planes.has(name)) ignoreBits |= mi.mask.planes.bitMask(name);
  }
  const nx = Math.ceil(width / p.binSize);
  const ny = Math.ceil(height / p.binSize);
  return {
    width,
    height,
    nx,
    ny,
    binX: binEdges(width, nx),
    binY: binEdges(height, ny),
    ignoreBits,
    numSigmaClip: p.numSigmaClip,
    numIter: p.numIter,
    interpolation: p.interpolation,
  };
}

/** Edges of n near-equal bins over [0, size). */
export function binEdges(size: number, n: number): Int32Array {
  const e = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) e[i] = Math.floor((i * size) / n);
  return e;
}
