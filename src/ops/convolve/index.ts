/**
 * `convolve`: a MaskedImage with a separable or general kernel on either backend.
 * Semantics, edge and NaN policies: ./spec.ts.
 */
import type { Backend } from '../../compute/select.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { type Op, runOp } from '../op.ts';
import { convolveCpu } from './cpu.ts';
import { convolveGpu } from './gpu.ts';
import { type ConvolveParams, type PreparedConvolve, prepareConvolve } from './spec.ts';

export const convolveOp: Op<MaskedImage, ConvolveParams, PreparedConvolve, MaskedImage> = {
  name: 'convolve',
  prepare: prepareConvolve,
  cpu: convolveCpu,
  gpu: (gpu, mi, p) => convolveGpu(gpu, mi, p),
};

/** Convolve `mi` with `params.kernel` on `backend`; returns a new MaskedImage. */
export function convolve(
  backend: Backend,
  mi: MaskedImage,
  params: ConvolveParams,
): Promise<MaskedImage> {
  return runOp(convolveOp, backend, mi, params);
}

export {
  type ConvolveParams,
  ConvolveParamsSchema,
  defaultGaussianSize,
  gaussianTaps,
  type Kernel,
  KernelSchema,
  MAX_KERNEL_SIZE,
  type PreparedConvolve,
  prepareConvolve,
} from './spec.ts';
