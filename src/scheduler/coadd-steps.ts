/**
 * The stages of one coadd, as plain functions over in-memory data: warp a visit onto a
 * target, stack the warps, model the coadd PSF (the CCDs' kernel images resampled onto
 * the target and averaged with the stack's weights; or, for inputs that only give a
 * width, a Gaussian of the mean sigma), detect and measure. The
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
import {
  GaussianPsf,
  ImagePsf,
  type KernelImage,
  kernelSizeForSigma,
  type Psf,
  padKernelImage,
  warpKernelImage,
} from '../image/psf.ts';
import type { FootprintSet } from '../ops/detect/footprints.ts';
import { detect } from '../ops/detect/index.ts';
import type { SmoothedNoise } from '../ops/detect/result.ts';
import { sourceCatalog } from '../ops/measure/catalog.ts';
import { measure } from '../ops/measure/index.ts';
import type { MeasureResult } from '../ops/measure/result.ts';
import type { MeasureParams } from '../ops/measure/spec.ts';
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
 * scale), CCDs without a PSF left out. Their mean ({@link coaddPsfSigma}, over all CCDs of
 * all visits, in visit then detector order) is the coadd's Gaussian sigma when no input
 * has a kernel image ({@link coaddPsf}).
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
 * The Gaussian PSF sigma of a coadd whose inputs only give a width, target pixels: the
 * mean of the per-CCD terms, summed in the order given (so the result is reproducible to
 * the last bit); 2 px when empty.
 */
export function coaddPsfSigma(terms: readonly number[]): number {
  let sum = 0;
  for (const t of terms) sum += t;
  return terms.length > 0 ? sum / terms.length : DEFAULT_COADD_PSF_SIGMA;
}

/** What {@link visitPsf} needs of a CCD: its PSF model (if any), WCS and pixel box. */
export interface PsfImageInput {
  /** The CCD's PSF (any model: its kernel image is used); null or absent: none. */
  readonly psf?: Psf | null | undefined;
  readonly wcs: Wcs;
  /** The CCD's pixel box, parent pixels. */
  readonly bbox: Box2I;
}

/** A visit's PSF on a target grid ({@link visitPsf}). */
export interface VisitPsf {
  /** Area-weighted mean of the visit's CCD kernel images resampled onto the target grid. */
  readonly psf: ImagePsf;
  /** The visit's weight in the coadd PSF: target pixels those CCDs cover (> 0). */
  readonly area: number;
}

/** Points per side of a CCD outline mapped onto the target (corners included). */
const OUTLINE_POINTS_PER_SIDE = 4;

/**
 * Where a CCD lands on the target box: the area (target pixels) and centroid (target
 * parent pixels) of its outline (pixel edges, 4 points per side, through the sky)
 * clipped to the target box's pixel edges. Area 0 when it misses the box.
 */
export function ccdOverlap(
  ccd: { readonly wcs: Wcs; readonly bbox: Box2I },
  target: CoaddGrid,
): { area: number; x: number; y: number } {
  const b = ccd.bbox;
  const x0 = b.minX - 0.5;
  const y0 = b.minY - 0.5;
  const x1 = b.minX + b.width - 0.5;
  const y1 = b.minY + b.height - 0.5;
  const n = OUTLINE_POINTS_PER_SIDE;
  const outline: Array<[number, number]> = [];
  const side = (ax: number, ay: number, bx: number, by: number) => {
    for (let k = 0; k < n; k++) outline.push([ax + ((bx - ax) * k) / n, ay + ((by - ay) * k) / n]);
  };
  side(x0, y0, x1, y0);
  side(x1, y0, x1, y1);
  side(x1, y1, x0, y1);
  side(x0, y1, x0, y0);
  let poly: Array<[number, number]> = [];
  for (const [x, y] of outline) {
    const sky = ccd.wcs.pixelToSky(x, y);
    const t = target.wcs.skyToPixel(sky.ra, sky.dec);
    if (!(Number.isFinite(t.x) && Number.isFinite(t.y))) return { area: 0, x: 0, y: 0 };
    poly.push([t.x, t.y]);
  }
  const tb = target.bbox;
  // Sutherland-Hodgman against the four half-planes of the target box.
  const clip = (inside: (p: [number, number]) => number) => {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < poly.length; i++) {
      const a = poly[i] as [number, number];
      const c = poly[(i + 1) % poly.length] as [number, number];
      const da = inside(a);
      const dc = inside(c);
      if (da >= 0) out.push(a);
      if (da >= 0 !== dc >= 0) {
        const t = da / (da - dc);
        out.push([a[0] + t * (c[0] - a[0]), a[1] + t * (c[1] - a[1])]);
      }
    }
    poly = out;
  };
  clip((p) => p[0] - (tb.minX - 0.5));
  clip((p) => tb.minX + tb.width - 0.5 - p[0]);
  clip((p) => p[1] - (tb.minY - 0.5));
  clip((p) => tb.minY + tb.height - 0.5 - p[1]);
  let a2 = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < poly.length; i++) {
    const [ax, ay] = poly[i] as [number, number];
    const [bx, by] = poly[(i + 1) % poly.length] as [number, number];
    const c = ax * by - bx * ay;
    a2 += c;
    cx += (ax + bx) * c;
    cy += (ay + by) * c;
  }
  if (poly.length < 3 || Math.abs(a2) < 1e-9) return { area: 0, x: 0, y: 0 };
  return { area: Math.abs(a2) / 2, x: cx / (3 * a2), y: cy / (3 * a2) };
}

/**
 * d(CCD pixel) / d(target pixel) at target pixel (x, y): the two WCS Jacobians (degrees
 * of sky per pixel, both in the same east/north frame) at the same sky point.
 */
export function targetToCcdJacobian(
  ccdWcs: Wcs,
  targetWcs: Wcs,
  x: number,
  y: number,
): [[number, number], [number, number]] {
  const sky = targetWcs.pixelToSky(x, y);
  const c = ccdWcs.skyToPixel(sky.ra, sky.dec);
  const [[t11, t12], [t21, t22]] = targetWcs.jacobian(x, y);
  const [[c11, c12], [c21, c22]] = ccdWcs.jacobian(c.x, c.y);
  const det = c11 * c22 - c12 * c21;
  // inverse(C) * T
  const i11 = c22 / det;
  const i12 = -c12 / det;
  const i21 = -c21 / det;
  const i22 = c11 / det;
  return [
    [i11 * t11 + i12 * t21, i11 * t12 + i12 * t22],
    [i21 * t11 + i22 * t21, i21 * t12 + i22 * t22],
  ];
}

/**
 * One visit's PSF on the target grid: each CCD with a PSF model contributes its kernel
 * image (at the CCD position of its overlap's centroid) resampled onto the target grid
 * with the local Jacobian of the CCD -> target mapping (Lanczos-3, as the warp,
 * psf.ts warpKernelImage), weighted by the target area the CCD covers ({@link
 * ccdOverlap}); the result is their weighted mean, an ImagePsf padded to the largest
 * kernel. CCDs are summed in the order given (detector order), so the result is
 * reproducible bit for bit. Null when no CCD with a PSF lands on the target.
 */
export function visitPsf(inputs: readonly PsfImageInput[], target: CoaddGrid): VisitPsf | null {
  const parts: Array<{ k: KernelImage; area: number }> = [];
  for (const i of inputs) {
    if (!i.psf) continue;
    const o = ccdOverlap(i, target);
    if (!(o.area > 0)) continue;
    const sky = target.wcs.pixelToSky(o.x, o.y);
    const at = i.wcs.skyToPixel(sky.ra, sky.dec);
    // float64 values (computeKernelImage would round them to float32).
    const values = i.psf.kernelValues(at.x, at.y);
    const J = targetToCcdJacobian(i.wcs, target.wcs, o.x, o.y);
    parts.push({ k: warpKernelImage(values, i.psf.width, i.psf.height, J), area: o.area });
  }
  if (parts.length === 0) return null;
  const size = Math.max(...parts.map((p) => p.k.size));
  const sum = new Float64Array(size * size);
  let area = 0;
  for (const p of parts) {
    const v = padKernelImage(p.k, size);
    for (let j = 0; j < v.length; j++) sum[j] = (sum[j] as number) + p.area * (v[j] as number);
    area += p.area;
  }
  for (let j = 0; j < sum.length; j++) sum[j] = (sum[j] as number) / area;
  return { psf: new ImagePsf({ width: size, height: size, data: sum }), area };
}

/**
 * The coadd's PSF model. When some visit has a kernel image ({@link visitPsf}): the
 * mean of the visits' kernel images (padded to the largest), each weighted by its
 * stack weight (`weights[v]`, the per-warp weight the stack used, visit order; null:
 * equal) times its area, as an ImagePsf (LSST's CoaddPsf is the same weighted sum,
 * evaluated per position; this one is constant over the patch). Otherwise (inputs that
 * only give a sigma) a Gaussian of `sigma` px ({@link coaddPsfSigma}). `visits` are in
 * visit order (null: the visit has no kernel image); summed in that order.
 */
export function coaddPsf(
  visits: readonly (VisitPsf | null)[],
  weights: ArrayLike<number> | null,
  sigma: number,
): Psf {
  if (weights && weights.length !== visits.length) {
    throw new RangeError(
      `${weights.length} weights for ${visits.length} visits; give one per visit`,
    );
  }
  let size = 0;
  for (const v of visits) if (v) size = Math.max(size, v.psf.width);
  let total = 0;
  const sum = new Float64Array(size * size);
  visits.forEach((v, i) => {
    if (!v) return;
    const w = (weights ? (weights[i] as number) : 1) * v.area;
    if (!(w > 0)) return;
    const k = padKernelImage({ size: v.psf.width, values: v.psf.kernelValues() }, size);
    for (let j = 0; j < k.length; j++) sum[j] = (sum[j] as number) + w * (k[j] as number);
    total += w;
  });
  if (!(total > 0)) {
    const s = kernelSizeForSigma(sigma);
    return new GaussianPsf(s, s, sigma);
  }
  for (let j = 0; j < sum.length; j++) sum[j] = (sum[j] as number) / total;
  return new ImagePsf({ width: size, height: size, data: sum });
}

/**
 * The Gaussian sigma (pixels) that stands for `psf` where a Gaussian is needed
 * (detection smoothing, centroid and shape weights): a Gaussian's own sigma, else the
 * effective sigma sqrt((Ixx + Iyy) / 2) of the model's unweighted second moments.
 */
export function psfGaussianSigma(psf: Psf): number {
  return psf instanceof GaussianPsf ? psf.modelSigma : psf.sigma;
}

/** The PSF parameter of `measure` for `psf` (a Gaussian stays a Gaussian). */
export function measurePsfParam(psf: Psf): MeasureParams['psf'] {
  if (psf instanceof GaussianPsf) return { kind: 'gaussian', sigma: psf.modelSigma };
  return {
    kind: 'image',
    width: psf.width,
    height: psf.height,
    values: psf.kernelValues(),
    sigma: psf.sigma,
  };
}

/** `psf`, or a Gaussian of `psf` pixels when given a sigma. */
function asPsf(psf: Psf | number): Psf {
  if (typeof psf !== 'number') return psf;
  const size = kernelSizeForSigma(psf);
  return new GaussianPsf(size, size, psf);
}

/**
 * A coadd exposure: pixels, the target WCS and the coadd PSF (`psf`: a model from
 * {@link coaddPsf}, or a sigma in pixels for a Gaussian).
 */
export function coaddExposure(mi: MaskedImage, wcs: Wcs, psf: Psf | number): Exposure {
  return new Exposure(mi, { wcs, psf: asPsf(psf) });
}

/** What {@link detectCoadd} found. */
export interface CoaddDetection {
  /** The coadd's mask with EDGE (unsmoothable border) and DETECTED set. */
  readonly mask: Mask;
  /** Positive footprints with peaks (null only when detection asked for no polarity). */
  readonly footprints: FootprintSet | null;
  /**
   * The smoothed noise measured / predicted (the threshold was scaled by its `ratio`;
   * null when the noise was not measured).
   */
  readonly noise: SmoothedNoise | null;
}

/** Options of {@link detectCoadd}. */
export interface DetectCoaddOptions {
  /**
   * Scale the threshold by the measured noise of the smoothed coadd (default true: warps
   * correlate the noise, detect spec.ts `thresholdNoise: 'measured'`); false: the
   * variance plane alone (pixel_stdev).
   */
  readonly measureNoise?: boolean | undefined;
}

/**
 * Detect sources on a coadd: PSF-smoothed (a Gaussian of `psfSigma` px: the coadd PSF's
 * effective sigma, {@link psfGaussianSigma}), thresholded at `threshold` times the
 * smoothed noise (measured on the coadd by default), footprints grown and marked
 * DETECTED.
 */
export async function detectCoadd(
  backend: Backend,
  coadd: MaskedImage,
  psfSigma: number,
  threshold: number,
  options: DetectCoaddOptions = {},
): Promise<CoaddDetection> {
  const det = await detect(backend, coadd, {
    psfSigma,
    thresholdValue: threshold,
    thresholdNoise: options.measureNoise === false ? 'variance' : 'measured',
  });
  return { mask: det.mask, footprints: det.positive, noise: det.noise };
}

/** What {@link measureCoadd} returns: the measurement and its catalog (null: no footprints). */
export interface CoaddMeasurement {
  readonly result: MeasureResult | null;
  readonly catalog: Catalog | null;
}

/**
 * Measure every peak of `footprints` on `mi` (the coadd with its detection mask) with the
 * coadd PSF (`psf`: its model, whose kernel image is the PSF-flux template, or a sigma in
 * pixels for a Gaussian); `wcs` adds (ra, dec). Fluxes in nJy.
 */
export async function measureCoadd(
  backend: Backend,
  mi: MaskedImage,
  footprints: FootprintSet | null,
  psf: Psf | number,
  wcs: Wcs,
): Promise<CoaddMeasurement> {
  if (!footprints) return { result: null, catalog: null };
  const result = await measure(backend, mi, footprints, { psf: measurePsfParam(asPsf(psf)) }, wcs);
  return { result, catalog: sourceCatalog(result, { fluxUnit: 'nJy' }) };
}

/** What {@link detectAndMeasure} returns. */
export interface DetectAndMeasure {
  /** The coadd with its detection mask, WCS and PSF. */
  readonly exposure: Exposure;
  readonly detection: CoaddDetection;
  readonly measurement: CoaddMeasurement;
  /** Wall time of each stage, ms. */
  readonly ms: { readonly detect: number; readonly measure: number };
}

/**
 * Detect, then measure, on a stacked coadd (the last two stages of a unit). `psf`: the
 * coadd PSF model ({@link coaddPsf}), or a sigma in pixels for a Gaussian; detection
 * smooths with a Gaussian of {@link psfGaussianSigma}.
 */
export async function detectAndMeasure(
  backend: Backend,
  coadd: MaskedImage,
  psf: Psf | number,
  threshold: number,
  wcs: Wcs,
  options: DetectCoaddOptions = {},
): Promise<DetectAndMeasure> {
  const model = asPsf(psf);
  let t0 = performance.now();
  const detection = await detectCoadd(backend, coadd, psfGaussianSigma(model), threshold, options);
  const detectMs = performance.now() - t0;
  t0 = performance.now();
  const mi = new MaskedImage(coadd.image, detection.mask, coadd.variance);
  const measurement = await measureCoadd(backend, mi, detection.footprints, model, wcs);
  const measureMs = performance.now() - t0;
  return {
    exposure: coaddExposure(mi, wcs, model),
    detection,
    measurement,
    ms: { detect: detectMs, measure: measureMs },
  };
}
