/**
 * `measure`: centroids, adaptive moments, PSF and aperture fluxes, flags and sky
 * positions of every detected peak, on either backend. Semantics: ./spec.ts.
 */
import type { Backend } from '../../compute/select.ts';
import type { Wcs } from '../../geom/wcs.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import type { FootprintSet } from '../detect/footprints.ts';
import { type Op, runOp } from '../op.ts';
import { measureCpu } from './cpu.ts';
import { measureGpu } from './gpu.ts';
import type { MeasureResult } from './result.ts';
import {
  type MeasureInput,
  type MeasureParams,
  type PreparedMeasure,
  prepareMeasure,
} from './spec.ts';

export const measureOp: Op<MeasureInput, MeasureParams, PreparedMeasure, MeasureResult> = {
  name: 'measure',
  prepare: prepareMeasure,
  cpu: measureCpu,
  gpu: measureGpu,
};

/**
 * Measure every peak of `footprints` (from `detect` on this same image) on `mi`, the
 * background-subtracted image; `wcs` (0-based parent pixels) adds (ra, dec).
 */
export function measure(
  backend: Backend,
  mi: MaskedImage,
  footprints: FootprintSet,
  params: MeasureParams,
  wcs: Wcs | null = null,
): Promise<MeasureResult> {
  return runOp(measureOp, backend, { image: mi, footprints, wcs }, params);
}

export { sourceCatalog } from './catalog.ts';
export { type MeasureResult, measureResult } from './result.ts';
export {
  FLAG,
  MAX_APERTURE_RADIUS,
  MAX_APERTURES,
  MAX_PSF_KERNEL_SIZE,
  type MeasureInput,
  type MeasureParams,
  MeasureParamsSchema,
  type PreparedMeasure,
  prepareMeasure,
  V,
} from './spec.ts';
