/**
 * `stack`: N warps on one grid into a coadd, with MEAN, MEANCLIP (default) or MEDIAN.
 * Semantics: ./spec.ts.
 */
import type { Backend } from '../../compute/select.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { type Op, runOp } from '../op.ts';
import { stackCpu } from './cpu.ts';
import { stackGpu } from './gpu.ts';
import { type PreparedStack, prepareStack, type StackParams, type StackResult } from './spec.ts';

export const stackOp: Op<readonly MaskedImage[], StackParams, PreparedStack, StackResult> = {
  name: 'stack',
  prepare: prepareStack,
  cpu: stackCpu,
  gpu: (gpu, inputs, p) => stackGpu(gpu, inputs, p),
};

/** Stack `inputs` (warps on one grid) on `backend`. */
export function stack(
  backend: Backend,
  inputs: readonly MaskedImage[],
  params: StackParams = {},
): Promise<StackResult> {
  return runOp(stackOp, backend, inputs, params);
}

export {
  MAX_STACK_INPUTS,
  type PreparedStack,
  prepareStack,
  prepareStackShape,
  type StackParams,
  StackParamsSchema,
  type StackResult,
} from './spec.ts';
