/**
 * `coaddMean`: the streaming MEAN coadd of visits, fused with the warp. Each visit (its
 * CCDs) is warped onto the target and accumulated at once, one visit at a time, so memory
 * holds the running sums and never N warps: on the GPU the warp is not even stored (the
 * warp kernel adds straight into the sums); on the CPU one visit's warp exists at a time.
 *
 * The result is defined as `stack(warps, { statistic: 'MEAN' })` of the per-visit warps
 * `warp(backend, visit, target, warpParams)` (see ../stack/spec.ts and ../warp/spec.ts),
 * with per-warp weights 1 / mean variance of each warp's good pixels (or given ones) and
 * one mask-propagation plane (SAT, threshold 0.1, by default). The CPU path gives those
 * very bits; the GPU path agrees to float32 rounding (its weights come from float32
 * workgroup partial sums added in float64).
 */
import { z } from 'zod';
import type { MaskPlaneDict } from '../../image/mask.ts';
import { OpInputError } from '../errors.ts';
import { WarpParamsSchema, type WarpSource, type WarpTarget } from '../warp/spec.ts';

const OP = 'coaddMean';

export const CoaddParamsSchema = z.object({
  warp: WarpParamsSchema.prefault({}),
  badMaskPlanes: z.array(z.string()).default(['NO_DATA', 'BAD', 'SAT', 'EDGE']),
  /** One weight per visit instead of 1 / mean variance. */
  weights: z.array(z.number()).optional(),
  /** The one plane kept when rejected inputs carrying it weigh more than `threshold`. */
  maskPropagation: z
    .object({ plane: z.string(), threshold: z.number().min(0).max(1) })
    .nullable()
    .default({ plane: 'SAT', threshold: 0.1 }),
});
export type CoaddParams = z.input<typeof CoaddParamsSchema>;

export interface CoaddInput {
  /** Visits, each the list of its CCDs (as for warp). */
  readonly visits: ReadonlyArray<readonly WarpSource[]>;
  readonly target: WarpTarget;
}

export interface PreparedCoadd {
  readonly warp: z.infer<typeof WarpParamsSchema>;
  readonly badBits: number;
  readonly noDataBits: number;
  readonly rejectedBits: number;
  readonly thrBits: number;
  readonly threshold: number;
  readonly weights: Float32Array | null;
  readonly planes: MaskPlaneDict;
}

export function prepareCoadd(input: CoaddInput, params: CoaddParams): PreparedCoadd {
  const parsed = CoaddParamsSchema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OpInputError(
      OP,
      `invalid ${issue?.path.join('.') || 'params'}: ${issue?.message ?? 'bad value'}`,
    );
  }
  const p = parsed.data;
  if (input.visits.length === 0)
    throw new OpInputError(OP, 'no visits; give at least one visit with its CCDs');
  const first = input.visits.find((v) => v.length > 0)?.[0];
  if (!first) throw new OpInputError(OP, 'every visit is empty; give each visit its CCDs');
  let planes = first.maskedImage.mask.planes;
  for (const name of [
    ...p.badMaskPlanes,
    ...(p.maskPropagation ? [p.maskPropagation.plane] : []),
  ]) {
    if (!planes.has(name))
      throw new OpInputError(OP, `mask plane ${name} is not in the CCDs' mask dictionary`);
  }
  planes = planes.withPlane('CLIPPED').withPlane('REJECTED');
  if (p.weights && p.weights.length !== input.visits.length) {
    throw new OpInputError(
      OP,
      `${p.weights.length} weights for ${input.visits.length} visits; give one per visit`,
    );
  }
  if (p.weights?.some((w) => !Number.isFinite(w) || w < 0))
    throw new OpInputError(OP, 'weights must be finite and >= 0');
  return {
    warp: p.warp,
    badBits: planes.bitMask(...p.badMaskPlanes),
    noDataBits: planes.bitMask('NO_DATA'),
    rejectedBits: planes.bitMask('REJECTED'),
    thrBits: p.maskPropagation ? planes.bitMask(p.maskPropagation.plane) : 0,
    threshold: Math.fround(p.maskPropagation?.threshold ?? 1),
    weights: p.weights ? Float32Array.from(p.weights) : null,
    planes,
  };
}
