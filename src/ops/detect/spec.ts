/**
 * `detect`: sources above a PSF-smoothed threshold, as footprints with peaks (LSST's
 * SourceDetectionTask with thresholdType pixel_stdev).
 *
 * Input: a background-subtracted MaskedImage with a variance plane. Steps:
 * 1. Smooth with a normalized circular Gaussian of `psfSigma` pixels (the `convolve` op,
 *    separable, size `kernelSize`, default 2 * floor(7 sigma + 0.5) + 1 as LSST's
 *    nSigmaForKernel 7); image' = K * image, variance' = K^2 * variance. The border
 *    the kernel cannot reach (half a kernel wide) gets EDGE and is never detected.
 *    Pixels with a non-finite image or variance enter the smoothing as 0 (so one NaN
 *    does not blank a kernel-sized hole) and are never detected themselves.
 * 2. Threshold (float32 on both backends): a pixel is above when
 *    s * image'(p) >= thresholdValue * sqrt(variance'(p)), with s = +1 (positive) or -1
 *    (negative polarity), image' finite and variance' finite and > 0. Pixels with zero,
 *    negative or non-finite variance are never detected.
 *    With `thresholdNoise: 'measured'` (coadds), variance' is first multiplied by r^2,
 *    r the measured / predicted noise of the smoothed image (result.ts
 *    measureSmoothedNoise): warping correlates a coadd's noise, which K^2 * variance
 *    does not describe (Lanczos3 warps: r ~ 1.15), so the cut is at `thresholdValue`
 *    times the actual smoothed noise. r is computed on the host in float64 from the
 *    smoothed planes (the same on both backends): the robust sigma (median - 15.87th
 *    percentile: the lower half, which sources do not reach) of image' / sqrt(variance')
 *    over a regular sample of unmasked pixels, leaving out squares of half-size 2 x
 *    growth radius around every pixel beyond 5 sigma (the sources), where sigma starts
 *    at the prediction (1) and is re-measured for up to 4 passes; rounded to 1e-4. It
 *    plays the part of LSST's ScaleVarianceTask on coadds and of DynamicDetectionTask's
 *    threshold factor (which measures the same ratio with PSF fluxes on sky objects).
 * 3. Connected components of the above pixels, 8-connectivity; components with fewer
 *    than `minPixels` pixels are dropped.
 * 4. Peaks: an above pixel p of a kept component is a peak when no above 8-neighbour q
 *    beats it, where q beats p if s image'(q) > s image'(p), or they are equal and q's
 *    pixel index is lower (index = y * width + x, 0-based local).
 * 5. Growth: the kept pixels are dilated by a disc of radius r = floor(nSigmaToGrow *
 *    psfSigma + 0.5) pixels (a pixel q joins when |q - p|^2 <= r^2 for a kept p; exact
 *    Euclidean disc, isotropic as LSST's isotropic grow).
 * 6. Merge: footprints are the 8-connected components of the grown set, so footprints
 *    that touch after growth are one. Each footprint's peaks are those of the kept
 *    components inside it, sorted by s image' descending, then pixel index ascending,
 *    capped at `maxPeaksPerFootprint` (the brightest kept; the footprint is flagged).
 * 7. Canonical order: footprints are numbered by their lowest pixel index (raster order
 *    of their first pixel), so both backends give identical footprint sets.
 * 8. Mask: a copy of the input mask with EDGE on the unsmoothable border and DETECTED
 *    (DETECTED_NEGATIVE) on the grown footprints.
 *
 * The smoothing kernel is a Gaussian even when the PSF is not (a pixelized coadd PSF):
 * callers pass the PSF's effective sigma (sqrt of its unweighted second moments). The
 * cost is a little S/N for a matched filter; the threshold stays exact, because it is in
 * units of the smoothed noise whatever the kernel.
 *
 * Caps (bad input): psfSigma must be > 0 and give a kernel of at most 255 pixels that
 * fits the image; an image with no finite positive variance is refused; the total peak
 * count is capped at `maxPeaks` (GPU buffer size; overflow is reported, never a crash);
 * memory is O(pixels) whatever the footprints (a bleed trail covering the image is one
 * footprint of many runs, never a per-footprint image).
 */
import { z } from 'zod';
import type { MaskedImage } from '../../image/masked-image.ts';
import { MAX_KERNEL_SIZE } from '../convolve/spec.ts';
import { OpInputError } from '../errors.ts';

const OP = 'detect';

export const DetectParamsSchema = z.object({
  /** Gaussian sigma of the PSF, pixels (LSST: the PSF's determinant radius). */
  psfSigma: z.number().refine((s) => Number.isFinite(s) && s > 0, {
    message: 'must be a finite number > 0 (pixels)',
  }),
  /** Threshold in units of the smoothed per-pixel noise (LSST thresholdValue 5). */
  thresholdValue: z.number().positive().default(5),
  /** Which signs to detect. */
  polarity: z.enum(['positive', 'negative', 'both']).default('positive'),
  /** Smallest component kept, pixels before growth (LSST minPixels 1). */
  minPixels: z.number().int().min(1).default(1),
  /** Growth radius in PSF sigmas (LSST nSigmaToGrow 2.4); 0 = no growth. */
  nSigmaToGrow: z.number().min(0).default(2.4),
  /** Smoothing kernel side (odd); default 2 * floor(7 psfSigma + 0.5) + 1. */
  kernelSize: z.number().int().optional(),
  /** Most peaks kept per footprint (brightest first). */
  maxPeaksPerFootprint: z.number().int().min(1).default(1000),
  /**
   * What the threshold's sigma is: 'variance', the smoothed variance plane (K^2 *
   * variance; LSST pixel_stdev), right for uncorrelated noise; 'measured', that times the
   * measured ratio of the smoothed image's noise to it (for coadds: correlated noise).
   */
  thresholdNoise: z.enum(['variance', 'measured']).default('variance'),
  /** Mask planes left out of the noise measurement (those the mask has). */
  noiseBadPlanes: z
    .array(z.string())
    .default(['BAD', 'SAT', 'NO_DATA', 'EDGE', 'CR', 'INTRP', 'DETECTED', 'DETECTED_NEGATIVE']),
  /** Most peaks over the whole image before the list is cut (reported as peaksDropped). */
  maxPeaks: z
    .number()
    .int()
    .min(1)
    .default(1 << 20),
});
/** Parameters of `detect`. */
export type DetectParams = z.input<typeof DetectParamsSchema>;

/** Largest growth radius (pixels); g distances are stored in bytes. */
export const MAX_GROW_RADIUS = 250;

/** What both implementations need. */
export interface PreparedDetect {
  readonly width: number;
  readonly height: number;
  readonly psfSigma: number;
  readonly kernelSize: number;
  readonly threshold: number;
  readonly polarities: ReadonlyArray<1 | -1>;
  readonly minPixels: number;
  readonly growRadius: number;
  readonly maxPeaksPerFootprint: number;
  readonly maxPeaks: number;
  readonly edgeBits: number;
  readonly detectedBits: number;
  readonly detectedNegativeBits: number;
  readonly thresholdNoise: 'variance' | 'measured';
  /** Bits of `noiseBadPlanes` present in the mask. */
  readonly noiseBadBits: number;
}

/** Default smoothing kernel side for `sigma` (LSST detection.py calculateKernelSize). */
export function detectionKernelSize(sigma: number): number {
  return 2 * Math.floor(7 * sigma + 0.5) + 1;
}

/** Validate the inputs and parameters. */
export function prepareDetect(mi: MaskedImage, params: DetectParams): PreparedDetect {
  const parsed = DetectParamsSchema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || 'params';
    throw new OpInputError(
      OP,
      `invalid ${path}: ${issue?.message ?? 'bad value'}; see DetectParams`,
    );
  }
  const p = parsed.data;
  const { width, height } = mi;
  if (width === 0 || height === 0) {
    throw new OpInputError(OP, `the image is ${width}x${height}; give it at least one pixel`);
  }
  const kernelSize = p.kernelSize ?? detectionKernelSize(p.psfSigma);
  if (kernelSize % 2 !== 1 || kernelSize < 1) {
    throw new OpInputError(OP, `kernelSize ${kernelSize} must be odd and >= 1`);
  }
  if (kernelSize > MAX_KERNEL_SIZE) {
    throw new OpInputError(
      OP,
      `psfSigma ${p.psfSigma} needs a ${kernelSize}-pixel smoothing kernel (> ${MAX_KERNEL_SIZE}); ` +
        'bin the image or pass a smaller kernelSize',
    );
  }
  if (kernelSize > width || kernelSize > height) {
    throw new OpInputError(
      OP,
      `the ${kernelSize}-pixel smoothing kernel does not fit the ${width}x${height} image; ` +
        'use a larger image or a smaller kernelSize',
    );
  }
  const growRadius = Math.floor(p.nSigmaToGrow * p.psfSigma + 0.5);
  if (growRadius > MAX_GROW_RADIUS) {
    throw new OpInputError(
      OP,
      `growth radius ${growRadius} px exceeds ${MAX_GROW_RADIUS}; lower nSigmaToGrow`,
    );
  }
  const vr = mi.variance.data;
  let ok = false;
  for (let i = 0; i < vr.length; i++) {
    const v = vr[i] as number;
    if (v > 0 && v < Number.POSITIVE_INFINITY) {
      ok = true;
      break;
    }
  }
  if (!ok) {
    throw new OpInputError(
      OP,
      'the variance plane has no finite positive pixel, so no threshold can be set; ' +
        'fill the variance (e.g. from the gain and the sky) before detecting',
    );
  }
  const planes = mi.mask.planes;
  for (const name of ['EDGE', 'DETECTED', 'DETECTED_NEGATIVE']) {
    if (!planes.has(name)) {
      throw new OpInputError(OP, `the mask has no ${name} plane; add it (MaskPlaneDict.withPlane)`);
    }
  }
  const polarities: Array<1 | -1> =
    p.polarity === 'positive' ? [1] : p.polarity === 'negative' ? [-1] : [1, -1];
  return {
    width,
    height,
    psfSigma: p.psfSigma,
    kernelSize,
    threshold: p.thresholdValue,
    polarities,
    minPixels: p.minPixels,
    growRadius,
    maxPeaksPerFootprint: p.maxPeaksPerFootprint,
    maxPeaks: p.maxPeaks,
    edgeBits: planes.bitMask('EDGE'),
    detectedBits: planes.bitMask('DETECTED'),
    detectedNegativeBits: planes.bitMask('DETECTED_NEGATIVE'),
    thresholdNoise: p.thresholdNoise,
    noiseBadBits: p.noiseBadPlanes.reduce((b, n) => (planes.has(n) ? b | planes.bitMask(n) : b), 0),
  };
}
