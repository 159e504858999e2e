/**
 * `coaddMean`: the streaming MEAN coadd of visits, warp fused with accumulation (see
 * ./spec.ts). For MEANCLIP and MEDIAN, warp each visit and `stack` the warps.
 */
import type { Backend } from '../../compute/select.ts';
import { type Op, runOp } from '../op.ts';
import type { StackResult } from '../stack/spec.ts';
import { coaddCpu } from './cpu.ts';
import { coaddGpu } from './gpu.ts';
import { type CoaddInput, type CoaddParams, type PreparedCoadd, prepareCoadd } from './spec.ts';

export const coaddMeanOp: Op<CoaddInput, CoaddParams, PreparedCoadd, StackResult> = {
  name: 'coaddMean',
  prepare: prepareCoadd,
  cpu: coaddCpu,
  gpu: coaddGpu,
};

/** The MEAN coadd of `visits` (each a list of CCDs) on `target`, one visit at a time. */
export function coaddMean(
  backend: Backend,
  visits: CoaddInput['visits'],
  target: CoaddInput['target'],
  params: CoaddParams = {},
): Promise<StackResult> {
  return runOp(coaddMeanOp, backend, { visits, target }, params);
}

export { type CoaddInput, type CoaddParams, CoaddParamsSchema, prepareCoadd } from './spec.ts';
