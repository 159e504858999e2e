/**
 * `detect`: PSF-smoothed thresholding into footprints with peaks, on either backend.
 * Semantics, caps and the canonical footprint order: ./spec.ts.
 */
import type { Backend } from '../../compute/select.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import { type Op, runOp } from '../op.ts';
import { detectCpu } from './cpu.ts';
import { detectGpu } from './gpu.ts';
import type { DetectResult } from './result.ts';
import { type DetectParams, type PreparedDetect, prepareDetect } from './spec.ts';

export const detectOp: Op<MaskedImage, DetectParams, PreparedDetect, DetectResult> = {
  name: 'detect',
  prepare: prepareDetect,
  cpu: detectCpu,
  gpu: detectGpu,
};

/** Detect sources in the background-subtracted `mi` on `backend`. */
export function detect(
  backend: Backend,
  mi: MaskedImage,
  params: DetectParams,
): Promise<DetectResult> {
  return runOp(detectOp, backend, mi, params);
}

export { footprintsCpu } from './cpu.ts';
export {
  type AssembleInput,
  assembleFootprints,
  type FootprintSet,
  footprintLabels,
  type RasterRuns,
  setFootprintBits,
} from './footprints.ts';
export { footprintsGpu, labelRuns } from './gpu.ts';
export { type DetectResult, detectResult, smoothForDetection } from './result.ts';
export {
  type DetectParams,
  DetectParamsSchema,
  detectionKernelSize,
  MAX_GROW_RADIUS,
  type PreparedDetect,
  prepareDetect,
} from './spec.ts';
