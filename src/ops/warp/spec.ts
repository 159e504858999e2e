/**
 * `warp`: CCD exposures (MaskedImage + WCS) resampled onto a target WCS and pixel box
 * (a patch), as LSST's afw warpExposure / makeDirectWarp.
 *
 * Mapping: target pixel -> sky -> source pixel is evaluated exactly in float64 on the
 * host on a grid of target pixels every `interpLength` pixels (default 10, LSST's) and
 * bilinearly interpolated in between (see grid.ts; no sky coordinate is ever float32).
 * The relative pixel-area factor |det d(source)/d(target)| comes from the same grid.
 *
 * Per target pixel with source position (xs, ys) (0-based source pixels), ix = floor(xs),
 * fx = xs - ix (likewise y), and a kernel of half-width n (Lanczos-n: n = 3, 4, 5;
 * bilinear: n = 1) with taps ix - n + 1 .. ix + n:
 *   image    = factor   * sum(w x)     / sum(w)
 *   variance = factor^2 * sum(w^2 var) / sum(w)^2
 *   mask     = OR of the source pixels of the bilinear footprint (ix, ix + 1 and
 *              iy, iy + 1) whose bilinear weight is >= 1e-5 (MASK_WEIGHT_MIN)
 * with w = L(fx - i) L(fy - j) and L(d) = n sin(pi d) sin(pi d / n) / (pi d)^2, L(0) = 1
 * (bilinear: 1 - |d|). LSST's edge rule: a pixel whose kernel footprint is not wholly
 * inside the source gets no value from that source; nor does one with a non-finite sum
 * (a NaN or infinite value under a non-zero tap) or a NO_DATA pixel in its mask
 * footprint. A target pixel no source gives a value is "no data": image NaN, variance
 * +Inf, mask NO_DATA (LSST's padding value).
 *
 * Several sources (the CCDs of one visit) go into one warp: a target pixel takes the
 * first source, in the order given, that yields a value for it.
 */
import { z } from 'zod';
import type { Box2I } from '../../geom/box.ts';
import type { Wcs } from '../../geom/wcs.ts';
import type { MaskPlaneDict } from '../../image/mask.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { OpInputError } from '../errors.ts';

const OP = 'warp';

export const WarpParamsSchema = z.object({
  /** Interpolation kernel for image and variance. */
  kernel: z.enum(['lanczos3', 'lanczos4', 'lanczos5', 'bilinear']).default('lanczos3'),
  /** Exact WCS evaluation every this many target pixels (LSST's interpLength). */
  interpLength: z.number().int().min(1).max(100).default(10),
});
export type WarpParams = z.input<typeof WarpParamsSchema>;

/** One input CCD. */
export interface WarpSource {
  readonly maskedImage: MaskedImage;
  readonly wcs: Wcs;
}

/** The target grid: a WCS and the pixel box (parent coordinates of that WCS) to fill. */
export interface WarpTarget {
  readonly wcs: Wcs;
  readonly bbox: Box2I;
}

/** What happened to each source. */
export interface WarpSourceReport {
  readonly index: number;
  /** Target pixels this source filled. */
  readonly pixels: number;
  /** Why it filled none ('' when it filled some). */
  readonly reason: string;
}

export interface WarpResult {
  /** The warp on the target box (xy0 = bbox corner); NO_DATA where nothing landed. */
  readonly warp: MaskedImage;
  readonly sources: readonly WarpSourceReport[];
}

export interface PreparedWarp {
  readonly kernel: 'lanczos3' | 'lanczos4' | 'lanczos5' | 'bilinear';
  /** Kernel half-width n (taps ix - n + 1 .. ix + n). */
  readonly n: number;
  /** 0 Lanczos, 1 bilinear (the shader's code). */
  readonly kernelCode: number;
  readonly interpLength: number;
  readonly noDataBits: number;
  readonly planes: MaskPlaneDict;
}

/** Validate the inputs and parameters. */
export function prepareWarp(
  input: { sources: readonly WarpSource[]; target: WarpTarget },
  params: WarpParams,
): PreparedWarp {
  const parsed = WarpParamsSchema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OpInputError(
      OP,
      `invalid ${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'bad value'}; see WarpParams`,
    );
  }
  const p = parsed.data;
  const { sources, target } = input;
  if (sources.length === 0)
    throw new OpInputError(OP, 'no source exposures; give at least one CCD');
  if (target.bbox.isEmpty) throw new OpInputError(OP, `the target box ${target.bbox} is empty`);
  const planes = (sources[0] as WarpSource).maskedImage.mask.planes;
  sources.forEach((s, i) => {
    if (s.maskedImage.width === 0 || s.maskedImage.height === 0) {
      throw new OpInputError(
        OP,
        `source ${i} is ${s.maskedImage.width}x${s.maskedImage.height}; give it pixels`,
      );
    }
    if (!s.maskedImage.mask.planes.has('NO_DATA')) {
      throw new OpInputError(OP, `source ${i}'s mask has no NO_DATA plane`);
    }
    if (s.maskedImage.mask.planes.bitMask('NO_DATA') !== planes.bitMask('NO_DATA')) {
      throw new OpInputError(
        OP,
        `source ${i} puts NO_DATA on another bit than source 0; use one mask dictionary per visit`,
      );
    }
  });
  const n = p.kernel === 'bilinear' ? 1 : Number(p.kernel.slice(-1));
  return {
    kernel: p.kernel,
    n,
    kernelCode: p.kernel === 'bilinear' ? 1 : 0,
    interpLength: p.interpLength,
    noDataBits: planes.bitMask('NO_DATA'),
    planes,
  };
}
