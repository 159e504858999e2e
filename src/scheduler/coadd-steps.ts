/**
 * The stages of one coadd, as plain functions over in-memory data: warp a visit onto a
 * target, stack the warps, average the CCDs' PSF widths, detect and measure. The
 * scheduler's `runUnit` (./run-coadd.ts) and the PipelineTask adapters (tasks/) both call
 * these, so `gpu-coadd run` and a pipeline compute the same numbers from the same inputs
 * (bit for bit on one backend).
 *
 * Conventions: pixel coordinates are 0-based parent pixels; widths (PSF sigma) are in
 * pixels of the grid named; image units are those of the inputs (nJy for calexps).
 */
import type { Catalog } from '../catalog/table.ts';
import type { Backend } from '../compute/select.ts';
import { Box2I } from '../geom/box.ts';
import type { Wcs } from '../geom/wcs.ts';
import { Exposure } from '../image/exposure.ts';
import type { Mask } from '../image/mask.ts';
import { MaskedImage } from '../image/masked-image.ts';
import { GaussianPsf, kernelSizeForSigma } from '../image/psf.ts';
import type { FootprintSet } from '../ops/detect/footprints.ts';
import { detect } from '../ops/detect/index.ts';
import { sourceCatalog } from '../ops/measure/catalog.ts';
import { measure } from '../ops/measure/index.ts';
import type { MeasureResult } from '../ops/measure/result.ts';
import { type StackResult, stack } from '../ops/stack/index.ts';
import { warp } from '../ops/warp/index.ts';
import type { WarpSource } from '../ops/warp/spec.ts';

/** Warp kernels a coadd may use. */
export type CoaddKernel = 'lanczos3' | 'lanczos4' | 'lanczos5' | 'bilinear';

/** Stack statistics a coadd may use. */
export type CoaddStatistic = 'MEAN' | 'MEANCLIP' | 'MEDIAN';

/** A target pixel grid: WCS (parent pixels) and the box to fill. */
export interface CoaddGrid {
  readonly wcs: Wcs;
  readonly bbox: Box2I;
}

/** PSF sigma used when no input has a PSF, pixels of the target grid. */
export const DEFAULT_COADD_PSF_SIGMA = 2;

/**
 * Warp one visit's CCDs together onto `target` (all of them in one warp, CCDs in the
 * order given), in row bands of `rows` when the whole target does not fit at once
 * (default: one piece). Any band height gives the same pixels.
 */
export async function warpVisit(
  backend: Backend,
  sources: readonly WarpSource[],
  target: CoaddGrid,
  kernel: CoaddKernel,
  rows: number = target.bbox.height,
): Promise<MaskedImage> {
  const { bbox } = target;
  if (rows >= bbox.height) return (await warp(backend, sources, target, { kernel })).warp;
  let whole: MaskedImage | null = null;
  for (let y = 0; y < bbox.height; y += rows) {
    const h = Math.min(rows, bbox.height - y);
    const band = new Box2I(bbox.minX, bbox.minY + y, bbox.width, h);
    const part = (await warp(backend, sources, { wcs: target.wcs, bbox: band }, { kernel })).warp;
    whole ??= MaskedImage.create(bbox.width, bbox.height, {
      xy0: { x: bbox.minX, y: bbox.minY },
      planes: part.mask.planes,
    });
    const off = y * bbox.width;
    whole.image.data.set(part.image.data, off);
    whole.mask.data.set(part.mask.data, off);
    whole.variance.data.set(part.variance.data, off);
  }
  return whole as MaskedImage;
}

/** Options of {@link stackWarps} beyond the statistic (defaults: the stack op's). */
export interface StackWarpsOptions {
  /** Per-warp weights (one per warp); default: 1 / mean variance of each warp's good pixels. */
  readonly weights?: readonly number[] | undefined;
  /** MEANCLIP clipping width, in standard deviations (default 3). */
  readonly numSigmaClip?: number | undefined;
  /** MEANCLIP passes (default 2). */
  readonly numIter?: number | undefined;
}

/**
 * Stack warps of one grid (in the order given, which fixes the float32 summation order)
 * into a coadd with per-warp weights; coverage is the number of inputs kept per pixel.
 */
export function stackWarps(
  backend: Backend,
  warps: readonly MaskedImage[],
  statistic: CoaddStatistic,
  options: StackWarpsOptions = {},
): Promise<StackResult> {
  return stack(backend, warps, {
    statistic,
    ...(options.weights !== undefined ? { weights: [...options.weights] } : {}),
    ...(options.numSigmaClip !== undefined ? { numSigmaClip: options.numSigmaClip } : {}),
    ...(options.numIter !== undefined ? { numIter: options.numIter } : {}),
  });
}

/** What {@link coaddPsfTerms} needs of a CCD: its PSF sigma (pixels, or null) and WCS. */
export interface PsfInput {
  readonly psfSigma: number | null;
  readonly wcs: Wcs;
}

/**
 * Each CCD's PSF sigma converted to target pixels (sigma x CCD pixel scale / target pixel
 * scale), CCDs without a PSF left out. The coadd's sigma is the mean of these terms
 * ({@link coaddPsfSigma}) over all CCDs of all visits, in visit then detector order.
 */
export function coaddPsfTerms(inputs: readonly PsfInput[], targetWcs: Wcs): number[] {
  const scale = targetWcs.pixelScale();
  const out: number[] = [];
  for (const i of inputs) {
    if (i.psfSigma === null) continue;
    out.push((i.psfSigma * i.wcs.pixelScale()) / scale);
  }
  return out;
}

/**
 * The coadd's Gaussian PSF sigma, target pixels: the mean of the per-CCD terms, summed in
 * the order given (so the result is reproducible to the last bit); 2 px when empty.
 */
export function coaddPsfSigma(terms: readonly number[]): number {
  let sum = 0;
  for (const t of terms) sum += t;
  return terms.length > 0 ? sum / terms.length : DEFAULT_COADD_PSF_SIGMA;
}

/** A coadd exposure: pixels, the target WCS and a Gaussian PSF of `psfSigma` (pixels). */
export function coaddExposure(mi: MaskedImage, wcs: Wcs, psfSigma: number): Exposure {
  const size = kernelSizeForSigma(psfSigma);
  return new Exposure(mi, { wcs, psf: new GaussianPsf(size, size, psfSigma) });
}

/** What {@link detectCoadd} found. */
export interface CoaddDetection {
  /** The coadd's mask with EDGE (unsmoothable border) and DETECTED set. */
  readonly mask: Mask;
  /** Positive footprints with peaks (null only when detection asked for no polarity). */
  readonly footprints: FootprintSet | null;
}

/**
 * Detect sources on a coadd: PSF-smoothed (Gaussian of `psfSigma` px), thresholded at
 * `threshold` times the smoothed per-pixel noise, footprints grown and marked DETECTED.
 */
export async function detectCoadd(
  backend: Backend,
  coadd: MaskedImage,
  psfSigma: number,
  threshold: number,
): Promise<CoaddDetection> {
  const det = await detect(backend, coadd, { psfSigma, thresholdValue: threshold });
  return { mask: det.mask, footprints: det.positive };
}

/** What {@link measureCoadd} returns: the measurement and its catalog (null: no footprints). */
export interface CoaddMeasurement {
  readonly result: MeasureResult | null;
  readonly catalog: Catalog | null;
}

/**
 * Measure every peak of `footprints` on `mi` (the coadd with its detection mask), with a
 * Gaussian PSF of `psfSigma` px; `wcs` adds (ra, dec). Fluxes in nJy.
 */
export async function measureCoadd(
  backend: Backend,
  mi: MaskedImage,
  footprints: FootprintSet | null,
  psfSigma: number,
  wcs: Wcs,
): Promise<CoaddMeasurement> {
  if (!footprints) return { result: null, catalog: null };
  const result = await measure(
    backend,
    mi,
    footprints,
    { psf: { kind: 'gaussian', sigma: psfSigma } },
    wcs,
  );
  return { result, catalog: sourceCatalog(result, { fluxUnit: 'nJy' }) };
}

/** What {@link detectAndMeasure} returns. */
export interface DetectAndMeasure {
  /** The coadd with its detection mask, WCS and Gaussian PSF. */
  readonly exposure: Exposure;
  readonly detection: CoaddDetection;
  readonly measurement: CoaddMeasurement;
  /** Wall time of each stage, ms. */
  readonly ms: { readonly detect: number; readonly measure: number };
}

/** Detect, then measure, on a stacked coadd (the last two stages of a unit). */
export async function detectAndMeasure(
  backend: Backend,
  coadd: MaskedImage,
  psfSigma: number,
  threshold: number,
  wcs: Wcs,
): Promise<DetectAndMeasure> {
  let t0 = performance.now();
  const detection = await detectCoadd(backend, coadd, psfSigma, threshold);
  const detectMs = performance.now() - t0;
  t0 = performance.now();
  const mi = new MaskedImage(coadd.image, detection.mask, coadd.variance);
  const measurement = await measureCoadd(backend, mi, detection.footprints, psfSigma, wcs);
  const measureMs = performance.now() - t0;
  return {
    exposure: coaddExposure(mi, wcs, psfSigma),
    detection,
    measurement,
    ms: { detect: detectMs, measure: measureMs },
  };
}
