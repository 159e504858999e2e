/**
 * `background`: mesh estimate (clipped mean per bin), smooth interpolation, subtraction,
 * on either backend. Semantics: ./spec.ts.
 */
import type { Backend } from '../../compute/select.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { type Op, runOp } from '../op.ts';
import { backgroundCpu } from './cpu.ts';
import { backgroundGpu } from './gpu.ts';
import {
  type BackgroundParams,
  type BackgroundResult,
  type PreparedBackground,
  prepareBackground,
} from './spec.ts';

export const backgroundOp: Op<MaskedImage, BackgroundParams, PreparedBackground, BackgroundResult> =
  {
    name: 'background',
    prepare: prepareBackground,
    cpu: backgroundCpu,
    gpu: backgroundGpu,
  };

/** Estimate and subtract the background of `mi` on `backend`. */
export function background(
  backend: Backend,
  mi: MaskedImage,
  params: BackgroundParams = {},
): Promise<BackgroundResult> {
  return runOp(backgroundOp, backend, mi, params);
}

export {
  columnSegments,
  evalSegments,
  type InterpStyle,
  reducedStyle,
  splineSegments,
} from './interpolate.ts';
export { type ModelTables, modelTables } from './model.ts';
export {
  type BackgroundBins,
  type BackgroundParams,
  BackgroundParamsSchema,
  type BackgroundResult,
  binEdges,
  DEFAULT_IGNORE_PLANES,
  type PreparedBackground,
  prepareBackground,
} from './spec.ts';
