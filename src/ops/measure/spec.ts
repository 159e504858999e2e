/**
 * `measure`: one source per detected peak, measured on the (background-subtracted)
 * image around the peak pixel (no deblending: neighbours contaminate, `blended` says so).
 *
 * Pixels: local 0-based (p, q) relative to the peak pixel; a pixel is usable when its
 * image and variance are finite and it has no bit of `badPlanes` (default NO_DATA, BAD).
 * Unusable pixels are left out of every sum (and flagged where it matters).
 *
 * - Centroid (Gaussian-weighted first moment, iterated): c = (0, 0); `centroidIter` times
 *   over the square of half-size ceil(4 sigma) around the peak, w = exp(-|d - c|^2 / 2
 *   sigma^2), m = sum w I (d - c) / sum w I, c <- c + 2 m (exact for a Gaussian source
 *   of the PSF's width; the fixed point is the centre of any symmetric source). When
 *   sum w I <= 0 or |c| > 2 px the centroid falls back to the peak pixel and
 *   `centroid_flag` is set. Errors: var(c_x) = 4 sum w^2 V (d_x - c_x)^2 / (sum w I)^2.
 * - Shape (adaptive second moments): M = sigma^2 I; `shapeIter` times over the square of
 *   half-size clamp(ceil(3 sqrt(tr M / 2)), 2, 12) around the peak, w = exp(-(d - c)^T
 *   M^-1 (d - c) / 2), Q = sum w I (d - c)(d - c)^T / sum w I, M <- 2 Q (the fixed point
 *   of a Gaussian source is its covariance). ixx, iyy, ixy = M (px^2);
 *   e1 = (ixx - iyy) / (ixx + iyy), e2 = 2 ixy / (ixx + iyy). Not positive definite or
 *   non-finite: NaN and `shape_flag`.
 * - PSF flux (LSST PsfFlux, unweighted least squares of the PSF model at the centroid):
 *   F = sum P I / sum P^2, err = sqrt(sum P^2 V) / sum P^2, over the usable pixels of
 *   the ceil(4 sigma) square around the peak (any region gives an unbiased F when the
 *   model is right; the square keeps neighbours and cost down). The template P:
 *   - `gaussian`: P = exp(-|d - c|^2 / 2 sigma^2) / (2 pi sigma^2) (point-sampled,
 *     normalized Gaussian);
 *   - `image` (a pixelized PSF, e.g. a coadd's: the kernel image K, odd `width x height`,
 *     centred, normalized to sum 1 on the host): K shifted to the centroid by Lanczos-3
 *     interpolation. With c = n + f (n = floor(c), per axis), P(d) = sum_{kx, ky = -2..3}
 *     wx[kx] wy[ky] K(d - n - k), w[k] = L3(k - f) normalized to sum 1 per axis, K = 0
 *     outside its image. `sigma` sets the square, and the centroid and shape weights
 *     (give the PSF's effective sigma).
 * - Aperture fluxes (radii default 3, 6, 9, 12 px) centred on c: each pixel weighs the
 *   fraction f of its area inside the circle (1 or 0 when its centre is more than
 *   0.7072 px inside or outside the edge, else the fraction of a 5 x 5 grid of
 *   sub-pixel centres inside); F = sum f I, err = sqrt(sum f^2 V). An unusable pixel
 *   with f > 0 sets `nanAperture_flag`; an aperture reaching off the image sets `edge`.
 * - Peak value: the image at the peak pixel; significance: the smoothed S/N (detect).
 * - Flags: edge (the 4 sigma square or largest aperture leaves the image or holds
 *   EDGE/NO_DATA), saturated / interpolated (SAT / INTRP inside the 4 sigma square),
 *   blended (the footprint has more than one peak), peaksTruncated (of the footprint).
 * - Sky: (ra, dec) in degrees of the centroid through the WCS (float64, host), when one
 *   is given; pixel positions are parent coordinates (xy0 added).
 *
 * Arithmetic: float64 on the CPU, float32 on the GPU, sums per source in pixel order
 * (no atomics: one GPU invocation per source), so the backends agree to ~1e-6 relative.
 */
import { z } from 'zod';
import type { Wcs } from '../../geom/wcs.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import type { FootprintSet } from '../detect/footprints.ts';
import { OpInputError } from '../errors.ts';

const OP = 'measure';

/** Most aperture radii per call (GPU output layout). */
export const MAX_APERTURES = 8;
/** Largest aperture radius, pixels. */
export const MAX_APERTURE_RADIUS = 64;
/** Largest side of an `image` PSF kernel, pixels. */
export const MAX_PSF_KERNEL_SIZE = 129;

const sigmaSchema = z
  .number()
  .refine((s) => Number.isFinite(s) && s > 0, { message: 'must be > 0 (pixels)' });
const kernelSideSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_PSF_KERNEL_SIZE)
  .refine((n) => n % 2 === 1, { message: 'must be odd (the kernel is centred on a pixel)' });

/** A circular Gaussian PSF of `sigma` pixels. */
const GaussianPsfParamSchema = z.object({ kind: z.literal('gaussian'), sigma: sigmaSchema });

/**
 * A pixelized PSF: kernel image `values` (row-major, `width x height`, odd, centred on its
 * middle pixel; normalized to sum 1 here) and the effective Gaussian `sigma` (pixels) for
 * the centroid and shape weights.
 */
const ImagePsfParamSchema = z
  .object({
    kind: z.literal('image'),
    width: kernelSideSchema,
    height: kernelSideSchema,
    values: z.custom<ArrayLike<number>>(
      (v) => v instanceof Float64Array || v instanceof Float32Array || Array.isArray(v),
      { message: 'must be a Float64Array, Float32Array or number[]' },
    ),
    sigma: sigmaSchema,
  })
  .superRefine((p, ctx) => {
    if (p.values.length !== p.width * p.height) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `needs ${p.width * p.height} values (width x height), got ${p.values.length}`,
      });
      return;
    }
    let sum = 0;
    for (let i = 0; i < p.values.length; i++) sum += p.values[i] as number;
    if (!(Number.isFinite(sum) && sum > 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['values'],
        message: `must be finite with a positive sum (got ${sum})`,
      });
    }
  });

export const MeasureParamsSchema = z.object({
  /** The PSF model: a circular Gaussian, or a kernel image (a coadd's pixelized PSF). */
  psf: z.discriminatedUnion('kind', [GaussianPsfParamSchema, ImagePsfParamSchema]),
  /** Aperture radii, pixels (LSST-like default 3, 6, 9, 12). */
  apertureRadii: z
    .array(z.number().positive().max(MAX_APERTURE_RADIUS))
    .min(1)
    .max(MAX_APERTURES)
    .default([3, 6, 9, 12]),
  /** Centroid iterations. */
  centroidIter: z.number().int().min(1).max(50).default(6),
  /** Adaptive-moment iterations. */
  shapeIter: z.number().int().min(1).max(100).default(10),
  /** Mask planes whose pixels are left out of the sums. */
  badPlanes: z.array(z.string()).default(['NO_DATA', 'BAD']),
});
/** Parameters of `measure`. */
export type MeasureParams = z.input<typeof MeasureParamsSchema>;

/** What `measure` reads: the image, its footprints and optionally a WCS for (ra, dec). */
export interface MeasureInput {
  readonly image: MaskedImage;
  readonly footprints: FootprintSet;
  readonly wcs?: Wcs | null;
}

/** Per-source value slots of the kernels' output (float64 CPU, float32 GPU). */
export const V = {
  cx: 0,
  cy: 1,
  cxErr: 2,
  cyErr: 3,
  ixx: 4,
  iyy: 5,
  ixy: 6,
  psfFlux: 7,
  psfFluxErr: 8,
  peakValue: 9,
  /** Then apFlux, apFluxErr for each radius. */
  ap0: 10,
} as const;

/** Flag bits of the kernels' output. */
export const FLAG = {
  edge: 1,
  saturated: 2,
  interpolated: 4,
  nanAperture: 8,
  centroid: 16,
  shape: 32,
  psfFlux: 64,
  /** Set on the host: the footprint has more than one peak. */
  blended: 128,
  /** Set on the host: the footprint's peak list was cut. */
  peaksTruncated: 256,
} as const;

/** What both implementations need. */
export interface PreparedMeasure {
  readonly width: number;
  readonly height: number;
  readonly sigma: number;
  /** The PSF flux template: 0 the Gaussian of `sigma`, 1 the kernel image. */
  readonly psfKind: 0 | 1;
  /** Kernel image sides (odd; 1 x 1 for the Gaussian) and values (float64, sum 1). */
  readonly psfWidth: number;
  readonly psfHeight: number;
  readonly psfKernel: Float64Array;
  readonly radii: Float64Array;
  readonly centroidIter: number;
  readonly shapeIter: number;
  readonly badBits: number;
  readonly edgeBits: number;
  readonly satBits: number;
  readonly intrpBits: number;
  /** Values per source: V.ap0 + 2 * radii. */
  readonly nv: number;
  /** Sources = peaks of the set; peak pixels (local). */
  readonly count: number;
  readonly peakX: Int32Array;
  readonly peakY: Int32Array;
}

/** Validate and lay out. */
export function prepareMeasure(input: MeasureInput, params: MeasureParams): PreparedMeasure {
  const parsed = MeasureParamsSchema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || 'params';
    throw new OpInputError(
      OP,
      `invalid ${path}: ${issue?.message ?? 'bad value'}; see MeasureParams`,
    );
  }
  const p = parsed.data;
  const mi = input.image;
  const fp = input.footprints;
  if (
    fp.width !== mi.width ||
    fp.height !== mi.height ||
    fp.xy0.x !== mi.xy0.x ||
    fp.xy0.y !== mi.xy0.y
  ) {
    throw new OpInputError(
      OP,
      `the footprints (${fp.width}x${fp.height} at ${fp.xy0.x},${fp.xy0.y}) are not of this image ` +
        `(${mi.width}x${mi.height} at ${mi.xy0.x},${mi.xy0.y}); measure the image that was detected`,
    );
  }
  const planes = mi.mask.planes;
  const bits = (names: readonly string[]) => {
    let b = 0;
    for (const n of names) if (planes.has(n)) b |= planes.bitMask(n);
    return b;
  };
  const radii = Float64Array.from([...p.apertureRadii].sort((a, b) => a - b));
  let psfKernel = new Float64Array([1]);
  let psfWidth = 1;
  let psfHeight = 1;
  if (p.psf.kind === 'image') {
    const v = p.psf.values;
    let sum = 0;
    for (let i = 0; i < v.length; i++) sum += v[i] as number;
    psfKernel = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) psfKernel[i] = (v[i] as number) / sum;
    psfWidth = p.psf.width;
    psfHeight = p.psf.height;
  }
  return {
    width: mi.width,
    height: mi.height,
    sigma: p.psf.sigma,
    psfKind: p.psf.kind === 'image' ? 1 : 0,
    psfWidth,
    psfHeight,
    psfKernel,
    radii,
    centroidIter: p.centroidIter,
    shapeIter: p.shapeIter,
    badBits: bits(p.badPlanes),
    edgeBits: bits(['EDGE', 'NO_DATA']),
    satBits: bits(['SAT']),
    intrpBits: bits(['INTRP']),
    nv: V.ap0 + 2 * radii.length,
    count: fp.peakX.length,
    peakX: fp.peakX,
    peakY: fp.peakY,
  };
}
