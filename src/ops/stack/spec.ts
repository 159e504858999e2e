/**
 * `stack`: N warps on one pixel grid into a coadd (LSST's AssembleCoaddTask statistics).
 *
 * Per output pixel p, over inputs i = 0..N-1 in order (float32 arithmetic throughout,
 * sums accumulated in input order, products rounded before they are added):
 *
 * 1. Input i is *good* when its mask has none of `badMaskPlanes` (default NO_DATA, BAD,
 *    SAT, EDGE), its image and variance are finite and its weight is finite and > 0.
 *    Inputs whose mask has NO_DATA do not cover p; any other input that is not good is
 *    *rejected*.
 * 2. Weights: `perWarp` (default) w_i = 1 / mean variance of warp i over its pixels that
 *    are good (as in 1); `perPixel` w = 1 / variance(p). Per-pixel weights bias bright
 *    sources low (the variance holds their own photon noise), hence the default.
 * 3. The kept set and value:
 *    - MEAN: kept = good; value = sum(w x) / sum(w).
 *    - MEDIAN: kept = good; value = median of the good x (unweighted; mean of the two
 *      middle values for an even count).
 *    - MEANCLIP (default): pass 1 keeps |x - median| <= k * 0.741 * IQR (quartiles by
 *      linear interpolation at (n - 1) q, as numpy); each later pass keeps
 *      |x - mu| <= k * s over the good set, where mu = sum(w x) / sum(w) and
 *      s = sqrt(sum((x - mu)^2) / (n - 1)) of the previous pass's kept set; `numIter`
 *      passes in all (default 2, k = `numSigmaClip` = 3); value = mu of the last kept
 *      set. A zero width (IQR or s = 0, or fewer than 2 values) does not clip; a pass
 *      that would keep nothing keeps the previous set.
 * 4. Variance = sum_kept(w^2 var) / sum_kept(w)^2 (the variance of the weighted mean
 *    from the inputs' variances, LSST's calcErrorFromInputVariance), times pi/2 for
 *    MEDIAN (its asymptotic efficiency on Gaussian noise).
 * 5. Mask = OR of the kept inputs' masks; CLIPPED when a good input was not kept;
 *    REJECTED when an input covering p was rejected; each plane P in
 *    `maskPropagationThresholds` (default SAT: 0.1) is set when the weight of rejected
 *    inputs with P, over the weight of all inputs covering p, exceeds the threshold.
 * 6. No kept input: image NaN, variance +Inf, mask NO_DATA (plus REJECTED / thresholds).
 * 7. Coverage = the number of kept inputs.
 */
import { z } from 'zod';
import type { MaskPlaneDict } from '../../image/mask.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { OpInputError } from '../errors.ts';

const OP = 'stack';

/** Most planes with a mask-propagation threshold. */
export const MAX_THRESHOLD_PLANES = 8;

/** Most inputs one stack accepts (GPU per-pixel arrays are sized by it). */
export const MAX_STACK_INPUTS = 1024;

export const StackParamsSchema = z.object({
  statistic: z.enum(['MEAN', 'MEANCLIP', 'MEDIAN']).default('MEANCLIP'),
  numSigmaClip: z.number().positive().default(3),
  numIter: z.number().int().min(1).max(10).default(2),
  badMaskPlanes: z.array(z.string()).default(['NO_DATA', 'BAD', 'SAT', 'EDGE']),
  weighting: z.enum(['perWarp', 'perPixel']).default('perWarp'),
  /** Per-warp weights to use instead of computing them (one per input). */
  weights: z.array(z.number()).optional(),
  maskPropagationThresholds: z.record(z.string(), z.number().min(0).max(1)).default({ SAT: 0.1 }),
});
export type StackParams = z.input<typeof StackParamsSchema>;

/** The coadd: image, variance and mask (with CLIPPED and REJECTED planes), and coverage. */
export interface StackResult {
  readonly coadd: MaskedImage;
  /** Number of inputs kept per pixel (row-major, like the coadd's planes). */
  readonly coverage: Int32Array;
  /** The per-warp weights used (perWarp), or null (perPixel). */
  readonly weights: Float32Array | null;
}

export interface PreparedStack {
  readonly width: number;
  readonly height: number;
  readonly n: number;
  readonly statistic: 'MEAN' | 'MEANCLIP' | 'MEDIAN';
  /** 0 MEAN, 1 MEANCLIP, 2 MEDIAN (the shader's code). */
  readonly statCode: number;
  readonly numSigmaClip: number;
  readonly numIter: number;
  readonly perPixel: boolean;
  readonly badBits: number;
  readonly noDataBits: number;
  readonly clippedBits: number;
  readonly rejectedBits: number;
  /** Bits of the threshold planes, and their thresholds, in the same order. */
  readonly thresholdBits: Int32Array;
  readonly thresholds: Float32Array;
  /** Explicit per-warp weights, or null to compute them. */
  readonly weights: Float32Array | null;
  /** The output mask's plane dictionary (input planes plus CLIPPED and REJECTED). */
  readonly planes: MaskPlaneDict;
}

/** Validate inputs and parameters. */
export function prepareStack(inputs: readonly MaskedImage[], params: StackParams): PreparedStack {
  const p = parseParams(params);
  if (inputs.length === 0) {
    throw new OpInputError(
      OP,
      'no inputs; give at least one warp (a single warp is copied with its variance)',
    );
  }
  if (inputs.length > MAX_STACK_INPUTS) {
    throw new OpInputError(
      OP,
      `${inputs.length} inputs > ${MAX_STACK_INPUTS}; stack in groups and combine`,
    );
  }
  const first = inputs[0] as MaskedImage;
  const { width, height } = first;
  if (width === 0 || height === 0)
    throw new OpInputError(OP, `the warps are ${width}x${height}; nothing to stack`);
  inputs.forEach((mi, i) => {
    if (
      mi.width !== width ||
      mi.height !== height ||
      mi.xy0.x !== first.xy0.x ||
      mi.xy0.y !== first.xy0.y
    ) {
      throw new OpInputError(
        OP,
        `warp ${i} is ${mi.width}x${mi.height} at (${mi.xy0.x}, ${mi.xy0.y}) but warp 0 is ${width}x${height} at ` +
          `(${first.xy0.x}, ${first.xy0.y}); warp every input onto the same patch grid first`,
      );
    }
  });
  return prepareParsed({ width, height, n: inputs.length, planes: first.mask.planes }, p);
}

/**
 * {@link prepareStack} for `n` warps that are not on the host (e.g. left on the device
 * by warpToDevice): their common size and mask plane dictionary stand for the images.
 */
export function prepareStackShape(
  shape: { width: number; height: number; n: number; planes: MaskPlaneDict },
  params: StackParams,
): PreparedStack {
  if (shape.n < 1 || shape.n > MAX_STACK_INPUTS) {
    throw new OpInputError(OP, `${shape.n} inputs; stack 1 to ${MAX_STACK_INPUTS} warps at once`);
  }
  if (shape.width === 0 || shape.height === 0)
    throw new OpInputError(OP, `the warps are ${shape.width}x${shape.height}; nothing to stack`);
  return prepareParsed(shape, parseParams(params));
}

function parseParams(params: StackParams): z.output<typeof StackParamsSchema> {
  const parsed = StackParamsSchema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OpInputError(
      OP,
      `invalid ${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'bad value'}; see StackParams`,
    );
  }
  return parsed.data;
}

function prepareParsed(
  shape: { width: number; height: number; n: number; planes: MaskPlaneDict },
  p: z.output<typeof StackParamsSchema>,
): PreparedStack {
  const { width, height } = shape;
  let planes = shape.planes;
  for (const name of p.badMaskPlanes) {
    if (!planes.has(name)) {
      throw new OpInputError(OP, `bad mask plane ${name} is not in the warps' mask dictionary`);
    }
  }
  for (const name of Object.keys(p.maskPropagationThresholds)) {
    if (!planes.has(name)) {
      throw new OpInputError(
        OP,
        `maskPropagationThresholds names ${name}, which the warps' masks do not have`,
      );
    }
  }
  planes = planes.withPlane('CLIPPED').withPlane('REJECTED');
  let weights: Float32Array | null = null;
  if (p.weights) {
    if (p.weights.length !== shape.n) {
      throw new OpInputError(
        OP,
        `${p.weights.length} weights for ${shape.n} inputs; give one per input`,
      );
    }
    if (p.weights.some((w) => !Number.isFinite(w) || w < 0)) {
      throw new OpInputError(OP, 'weights must be finite and >= 0 (0 leaves an input out)');
    }
    weights = Float32Array.from(p.weights);
  }
  const entries = Object.entries(p.maskPropagationThresholds);
  if (entries.length > MAX_THRESHOLD_PLANES) {
    throw new OpInputError(
      OP,
      `at most ${MAX_THRESHOLD_PLANES} maskPropagationThresholds planes, got ${entries.length}`,
    );
  }
  return {
    width,
    height,
    n: shape.n,
    statistic: p.statistic,
    statCode: p.statistic === 'MEAN' ? 0 : p.statistic === 'MEANCLIP' ? 1 : 2,
    numSigmaClip: p.numSigmaClip,
    numIter: p.numIter,
    perPixel: p.weighting === 'perPixel',
    badBits: planes.bitMask(...p.badMaskPlanes),
    noDataBits: planes.bitMask('NO_DATA'),
    clippedBits: planes.bitMask('CLIPPED'),
    rejectedBits: planes.bitMask('REJECTED'),
    thresholdBits: Int32Array.from(entries.map(([k]) => planes.bitMask(k))),
    thresholds: Float32Array.from(entries.map(([, v]) => v)),
    weights: p.weighting === 'perPixel' ? null : weights,
    planes,
  };
}
