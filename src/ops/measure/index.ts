/** `measure` (work in progress). */
import type { Backend } from '../../compute/select.ts';
import type { MaskedImage } from '../../image/masked-image.ts';
import type { FootprintSet } from '../detect/footprints.ts';

/** Parameters of `measure`. */
export interface MeasureParams {
  readonly psf: { readonly kind: 'gaussian'; readonly sigma: number };
}

/** Output of `measure`. */
export interface MeasureResult {
  readonly count: number;
}

/** Measure every peak of `footprints` on `mi`. */
export async function measure(
  _backend: Backend,
  _mi: MaskedImage,
  footprints: FootprintSet,
  _params: MeasureParams,
): Promise<MeasureResult> {
  return { count: footprints.peakX.length };
}
