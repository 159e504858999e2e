/**
 * Point-spread-function models: Gaussian, double Gaussian (LSST's DoubleGaussianPsf) and
 * a pixelized kernel image (LSST's KernelPsf / PixelizedPsf), with their FITS form.
 *
 * Conventions:
 * - Kernel images are odd-sized and centred: `computeKernelImage` returns an ImageF of
 *   `width x height` pixels whose xy0 is `(-(width - 1) / 2, -(height - 1) / 2)`, so
 *   pixel (0, 0) is the centre (as afw's `Psf.computeKernelImage`). Values sum to 1.
 * - The analytic models are evaluated at pixel centres (not integrated over pixels), as
 *   afw does; a pixelized PSF holds whatever its image holds (for the simulator: the
 *   pixel-integrated PSF, as PSF models fitted to data are).
 * - `sigma` is the effective Gaussian sigma in pixels, sqrt((Ixx + Iyy) / 2) of the
 *   model's unweighted second moments; `fwhm` is `sigma * 2 sqrt(2 ln 2)` (pixels).
 * - These models are constant over the image: the position arguments are accepted for
 *   API compatibility with spatially varying models and ignored.
 */

import type { ImageHduInput } from '../fits/hdu.ts';
import { Header } from '../fits/header.ts';
import type { Matrix2 } from '../geom/wcs.ts';
import { ExposureError, type ExposureErrorContext } from './exposure-errors.ts';
import { ImageF } from './image.ts';

/** FWHM / sigma of a Gaussian: 2 sqrt(2 ln 2). */
export const FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.LN2);

/** |sum - 1| below which an ImagePsf keeps its kernel values as given (already normalized). */
export const NORMALIZED_SUM_TOLERANCE = 1e-12;

/** EXTNAME of the PSF extension of an exposure file. */
export const PSF_EXTNAME = 'PSF';

/** Model names written to the PSF extension's PSFMODEL key. */
export type PsfKind = 'gaussian' | 'double-gaussian' | 'image';

/** Unweighted second moments about the centroid, pixels^2. */
export interface SecondMoments {
  readonly ixx: number;
  readonly iyy: number;
  readonly ixy: number;
}

/** Common interface of the PSF models. */
export abstract class Psf {
  /** Which model this is. */
  abstract readonly kind: PsfKind;
  /** Kernel image width, pixels (odd). */
  readonly width: number;
  /** Kernel image height, pixels (odd). */
  readonly height: number;

  protected constructor(width: number, height: number) {
    checkKernelSize(width, height);
    this.width = width;
    this.height = height;
  }

  /**
   * The PSF kernel image at parent pixel (x, y) (ignored by these constant models):
   * `width x height`, centred at pixel (0, 0) (xy0 = -half size), summing to 1.
   */
  computeKernelImage(x?: number, y?: number): ImageF {
    const k = this.kernelValues(x, y);
    const out = new ImageF(this.width, this.height, {
      xy0: { x: -(this.width - 1) / 2, y: -(this.height - 1) / 2 },
    });
    out.data.set(k);
    return out;
  }

  /**
   * The kernel in float64, row-major (`width * height` values, centre at index
   * `((height - 1) / 2) * width + (width - 1) / 2`), summing to 1. A fresh array.
   */
  abstract kernelValues(x?: number, y?: number): Float64Array;

  /** Unweighted second moments of the model, pixels^2. */
  abstract secondMoments(x?: number, y?: number): SecondMoments;

  /** Effective Gaussian sigma, pixels: sqrt((Ixx + Iyy) / 2). */
  get sigma(): number {
    const m = this.secondMoments();
    return Math.sqrt((m.ixx + m.iyy) / 2);
  }

  /** Full width at half maximum of the effective Gaussian, pixels. */
  get fwhm(): number {
    return this.sigma * FWHM_PER_SIGMA;
  }

  /** Model parameters as FITS keys (PSFMODEL and the model's own), without the image. */
  protected abstract modelCards(header: Header): void;

  /**
   * The PSF as an image extension (EXTNAME PSF): the kernel image as float64 data, and
   * keys PSFMODEL (`GAUSSIAN`, `DOUBLE_GAUSSIAN`, `IMAGE`), PSFSIGMA (effective sigma,
   * pixels) and the model's parameters (see docs/data-model.md).
   */
  toFitsHdu(): ImageHduInput {
    const header = new Header();
    this.modelCards(header);
    header.set('PSFSIGMA', this.sigma, '[pixel] effective Gaussian sigma');
    header.set('CRPIX1', (this.width - 1) / 2 + 1, 'kernel centre x (1-based)');
    header.set('CRPIX2', (this.height - 1) / 2 + 1, 'kernel centre y (1-based)');
    return {
      name: PSF_EXTNAME,
      header,
      data: this.kernelValues(),
      shape: [this.width, this.height],
    };
  }
}

/** A circular Gaussian PSF of `sigma` pixels evaluated on a `width x height` kernel. */
export class GaussianPsf extends Psf {
  readonly kind = 'gaussian' as const;
  /** Gaussian sigma, pixels. */
  readonly modelSigma: number;

  /**
   * @param width kernel width, pixels (odd)
   * @param height kernel height, pixels (odd)
   * @param sigma Gaussian sigma, pixels (> 0)
   */
  constructor(width: number, height: number, sigma: number) {
    super(width, height);
    checkPositive(sigma, 'sigma');
    this.modelSigma = sigma;
  }

  kernelValues(): Float64Array {
    return gaussianKernel(this.width, this.height, [[1, this.modelSigma]]);
  }

  secondMoments(): SecondMoments {
    const s2 = this.modelSigma * this.modelSigma;
    return { ixx: s2, iyy: s2, ixy: 0 };
  }

  protected modelCards(header: Header): void {
    header.set('PSFMODEL', 'GAUSSIAN', 'PSF model');
    header.set('PSFSIG1', this.modelSigma, '[pixel] Gaussian sigma');
  }
}

/**
 * LSST's DoubleGaussianPsf: `exp(-r^2 / 2 sigma1^2) + b exp(-r^2 / 2 sigma2^2)`, so `b`
 * is the ratio of the second component's peak amplitude to the first's. The components
 * hold fluxes in the ratio 1 : b sigma2^2 / sigma1^2.
 */
export class DoubleGaussianPsf extends Psf {
  readonly kind = 'double-gaussian' as const;
  /** Core sigma, pixels. */
  readonly sigma1: number;
  /** Wing sigma, pixels. */
  readonly sigma2: number;
  /** Peak-amplitude ratio of the wing to the core (>= 0). */
  readonly b: number;

  /**
   * @param width kernel width, pixels (odd)
   * @param height kernel height, pixels (odd)
   * @param sigma1 core sigma, pixels
   * @param sigma2 wing sigma, pixels (default 2 sigma1)
   * @param b peak-amplitude ratio wing / core (default 0)
   */
  constructor(width: number, height: number, sigma1: number, sigma2 = 2 * sigma1, b = 0) {
    super(width, height);
    checkPositive(sigma1, 'sigma1');
    checkPositive(sigma2, 'sigma2');
    if (!(Number.isFinite(b) && b >= 0)) {
      throw new ExposureError(
        'EXPOSURE_BAD_PSF',
        `double-Gaussian amplitude ratio b must be >= 0, got ${b}`,
      );
    }
    this.sigma1 = sigma1;
    this.sigma2 = sigma2;
    this.b = b;
  }

  kernelValues(): Float64Array {
    return gaussianKernel(this.width, this.height, [
      [1, this.sigma1],
      [this.b, this.sigma2],
    ]);
  }

  secondMoments(): SecondMoments {
    const w1 = this.sigma1 ** 2;
    const w2 = this.b * this.sigma2 ** 2;
    const s2 = (w1 * this.sigma1 ** 2 + w2 * this.sigma2 ** 2) / (w1 + w2);
    return { ixx: s2, iyy: s2, ixy: 0 };
  }

  protected modelCards(header: Header): void {
    header.set('PSFMODEL', 'DOUBLE_GAUSSIAN', 'PSF model');
    header.set('PSFSIG1', this.sigma1, '[pixel] core sigma');
    header.set('PSFSIG2', this.sigma2, '[pixel] wing sigma');
    header.set('PSFB', this.b, 'wing/core peak-amplitude ratio');
  }
}

/**
 * A PSF given by an odd-sized kernel image centred on its middle pixel (LSST's
 * KernelPsf with a FixedKernel). The image is copied and normalized to sum 1;
 * second moments are the image's unweighted moments about its centroid.
 *
 * Normalization is idempotent: values whose float64 sum is already within
 * {@link NORMALIZED_SUM_TOLERANCE} of 1 are kept as given, so a kernel written to FITS
 * (float64) and read back is the very same bits (a second division by a sum of
 * 1 + 1e-16 would change the last bit of some values).
 */
export class ImagePsf extends Psf {
  readonly kind = 'image' as const;
  private readonly kernel: Float64Array;
  private readonly moments: SecondMoments;

  /**
   * @param image kernel pixels (any xy0; odd width and height, positive sum)
   */
  constructor(image: {
    readonly width: number;
    readonly height: number;
    readonly data: ArrayLike<number>;
  }) {
    super(image.width, image.height);
    const n = image.width * image.height;
    if (image.data.length !== n) {
      throw new ExposureError(
        'EXPOSURE_BAD_PSF',
        `PSF image ${image.width}x${image.height} needs ${n} values, got ${image.data.length}`,
      );
    }
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = image.data[i]!;
      if (!Number.isFinite(v)) {
        throw new ExposureError(
          'EXPOSURE_BAD_PSF',
          `PSF image value ${i} is ${v}; give a finite kernel image`,
        );
      }
      sum += v;
    }
    if (!(sum > 0)) {
      throw new ExposureError(
        'EXPOSURE_BAD_PSF',
        `PSF image sums to ${sum}; a kernel image must have a positive sum`,
      );
    }
    this.kernel = new Float64Array(n);
    if (Math.abs(sum - 1) <= NORMALIZED_SUM_TOLERANCE) {
      for (let i = 0; i < n; i++) this.kernel[i] = image.data[i]!;
    } else {
      for (let i = 0; i < n; i++) this.kernel[i] = image.data[i]! / sum;
    }
    this.moments = imageMoments(this.kernel, image.width, image.height);
  }

  kernelValues(): Float64Array {
    return this.kernel.slice();
  }

  secondMoments(): SecondMoments {
    return this.moments;
  }

  protected modelCards(header: Header): void {
    header.set('PSFMODEL', 'IMAGE', 'PSF model: the kernel image in this HDU');
  }
}

/**
 * Rebuilds a PSF from its FITS extension (header keys and, for PSFMODEL = IMAGE, the
 * kernel image). Throws EXPOSURE_BAD_PSF naming the file and HDU.
 */
export function psfFromFits(
  header: Header,
  data: ArrayLike<number> | null,
  shape: readonly number[],
  context: ExposureErrorContext = {},
): Psf {
  const bad = (message: string, key?: string): ExposureError =>
    new ExposureError(
      'EXPOSURE_BAD_PSF',
      message,
      key === undefined ? context : { ...context, key },
    );
  let model: string | undefined;
  const num = (key: string, required: boolean): number | undefined => {
    const v = header.get(key);
    if (v === undefined) {
      if (required) throw bad(`the ${model} PSF needs key ${key}`, key);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${key} must be a number`, key);
    return v;
  };
  const raw = header.get('PSFMODEL');
  if (typeof raw !== 'string') {
    throw bad(
      'the PSF extension has no PSFMODEL key (GAUSSIAN, DOUBLE_GAUSSIAN or IMAGE)',
      'PSFMODEL',
    );
  }
  model = raw.trim().toUpperCase();
  const [w, h] = [shape[0] ?? 0, shape[1] ?? 0];
  try {
    switch (model) {
      case 'GAUSSIAN':
        return new GaussianPsf(w, h, num('PSFSIG1', true)!);
      case 'DOUBLE_GAUSSIAN':
        return new DoubleGaussianPsf(
          w,
          h,
          num('PSFSIG1', true)!,
          num('PSFSIG2', true)!,
          num('PSFB', true)!,
        );
      case 'IMAGE':
        if (!data || shape.length !== 2)
          throw bad('the IMAGE PSF extension has no 2-D kernel image');
        return new ImagePsf({ width: w, height: h, data });
      default:
        throw bad(
          `unknown PSFMODEL '${model}'; expected GAUSSIAN, DOUBLE_GAUSSIAN or IMAGE`,
          'PSFMODEL',
        );
    }
  } catch (e) {
    if (e instanceof ExposureError && e.file === undefined && context.file !== undefined) {
      throw new ExposureError(e.code, e.message, { ...context, cause: e });
    }
    throw e;
  }
}

/** Kernel of a sum of centred circular Gaussians [[peak amplitude, sigma], ...], normalized. */
function gaussianKernel(
  width: number,
  height: number,
  comps: ReadonlyArray<readonly [number, number]>,
): Float64Array {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const values = new Float64Array(width * height);
  let sum = 0;
  for (let j = 0; j < height; j++) {
    const dy = j - cy;
    for (let i = 0; i < width; i++) {
      const dx = i - cx;
      const r2 = dx * dx + dy * dy;
      let v = 0;
      for (const [amp, s] of comps) if (amp > 0) v += amp * Math.exp(-r2 / (2 * s * s));
      values[j * width + i] = v;
      sum += v;
    }
  }
  for (let i = 0; i < values.length; i++) values[i] = values[i]! / sum;
  return values;
}

function imageMoments(k: Float64Array, width: number, height: number): SecondMoments {
  let sx = 0;
  let sy = 0;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const v = k[j * width + i]!;
      sx += v * i;
      sy += v * j;
    }
  }
  let ixx = 0;
  let iyy = 0;
  let ixy = 0;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const v = k[j * width + i]!;
      const dx = i - sx;
      const dy = j - sy;
      ixx += v * dx * dx;
      iyy += v * dy * dy;
      ixy += v * dx * dy;
    }
  }
  return { ixx, iyy, ixy };
}

function checkKernelSize(width: number, height: number): void {
  for (const [name, n] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!(Number.isSafeInteger(n) && n > 0 && n % 2 === 1)) {
      throw new ExposureError(
        'EXPOSURE_BAD_PSF',
        `PSF kernel ${name} must be a positive odd integer, got ${n}`,
      );
    }
  }
}

function checkPositive(v: number, name: string): void {
  if (!(Number.isFinite(v) && v > 0)) {
    throw new ExposureError(
      'EXPOSURE_BAD_PSF',
      `PSF ${name} must be a positive number of pixels, got ${v}`,
    );
  }
}

/** An odd kernel size that holds +-`nSigma` sigma: 2 ceil(nSigma sigma) + 1 pixels. */
export function kernelSizeForSigma(sigma: number, nSigma = 5): number {
  return 2 * Math.ceil(nSigma * sigma) + 1;
}

/** A square, odd-sized kernel image: `size x size` float64 values, row-major, centred. */
export interface KernelImage {
  readonly size: number;
  readonly values: Float64Array;
}

/** Largest side of a resampled kernel, pixels (a guard against degenerate maps). */
export const MAX_WARPED_KERNEL_SIZE = 255;

/**
 * Lanczos-3 weights for the six taps around `t` (taps floor(t) - 2 .. floor(t) + 3, at
 * distances t - tap), normalized to sum 1 so that a constant interpolates exactly.
 */
function lanczos3Taps(t: number, out: Float64Array): number {
  const i0 = Math.floor(t) - 2;
  let sum = 0;
  for (let k = 0; k < 6; k++) {
    const d = t - (i0 + k);
    let w: number;
    if (d === 0) w = 1;
    else if (Math.abs(d) >= 3) w = 0;
    else
      w = (3 * Math.sin(Math.PI * d) * Math.sin((Math.PI * d) / 3)) / (Math.PI * Math.PI * d * d);
    out[k] = w;
    sum += w;
  }
  for (let k = 0; k < 6; k++) out[k] = (out[k] as number) / sum;
  return i0;
}

/**
 * A PSF kernel image resampled onto another pixel grid through a local linear map, as
 * the warp resamples the pixels the PSF belongs to (LSST's WarpedPsf, with the warp's
 * affine approximation at one point).
 *
 * `toSource` is the Jacobian d(source pixel) / d(target pixel) (2 x 2, rows x then y)
 * where the PSF is wanted. The target value at offset (u, v) from the kernel centre is
 * the source kernel at (a, b) = toSource (u, v), interpolated with Lanczos-3 (the
 * warp's default kernel; 0 outside the source kernel). The result is square and odd,
 * of half-size ceil(largest |u| or |v| of the source kernel's corners mapped to the
 * target), and normalized to sum 1 (so the area factor |det| drops out).
 *
 * @param kernel source kernel values, row-major, `width x height` (odd), centred
 * @throws ExposureError EXPOSURE_BAD_PSF for a singular or non-finite map, or a result
 *   wider than {@link MAX_WARPED_KERNEL_SIZE}
 */
export function warpKernelImage(
  kernel: ArrayLike<number>,
  width: number,
  height: number,
  toSource: Matrix2,
): KernelImage {
  checkKernelSize(width, height);
  const [[m11, m12], [m21, m22]] = toSource;
  const det = m11 * m22 - m12 * m21;
  if (!(Number.isFinite(det) && det !== 0)) {
    throw new ExposureError(
      'EXPOSURE_BAD_PSF',
      `cannot resample a PSF through the singular map [[${m11}, ${m12}], [${m21}, ${m22}]]; check both WCSs`,
    );
  }
  const hw = (width - 1) / 2;
  const hh = (height - 1) / 2;
  // Target offsets of the source kernel's corners (inverse map).
  let reach = 1;
  for (const [a, b] of [
    [hw, hh],
    [hw, -hh],
    [-hw, hh],
    [-hw, -hh],
  ] as const) {
    const u = (m22 * a - m12 * b) / det;
    const v = (-m21 * a + m11 * b) / det;
    reach = Math.max(reach, Math.abs(u), Math.abs(v));
  }
  const r = Math.ceil(reach - 1e-9);
  const size = 2 * r + 1;
  if (size > MAX_WARPED_KERNEL_SIZE) {
    throw new ExposureError(
      'EXPOSURE_BAD_PSF',
      `a ${width}x${height} PSF kernel resampled through this map needs ${size} pixels (> ${MAX_WARPED_KERNEL_SIZE}); check the pixel scales`,
    );
  }
  const values = new Float64Array(size * size);
  const wx = new Float64Array(6);
  const wy = new Float64Array(6);
  let sum = 0;
  for (let j = 0; j < size; j++) {
    const v = j - r;
    for (let i = 0; i < size; i++) {
      const u = i - r;
      const a = m11 * u + m12 * v + hw;
      const b = m21 * u + m22 * v + hh;
      if (a <= -3 || b <= -3 || a >= width + 2 || b >= height + 2) continue;
      const ix0 = lanczos3Taps(a, wx);
      const iy0 = lanczos3Taps(b, wy);
      let acc = 0;
      for (let ky = 0; ky < 6; ky++) {
        const y = iy0 + ky;
        if (y < 0 || y >= height) continue;
        const wyk = wy[ky] as number;
        if (wyk === 0) continue;
        let row = 0;
        for (let kx = 0; kx < 6; kx++) {
          const x = ix0 + kx;
          if (x < 0 || x >= width) continue;
          row += (wx[kx] as number) * (kernel[y * width + x] as number);
        }
        acc += wyk * row;
      }
      values[j * size + i] = acc;
      sum += acc;
    }
  }
  if (!(sum > 0)) {
    throw new ExposureError(
      'EXPOSURE_BAD_PSF',
      `the resampled PSF kernel sums to ${sum}; give a kernel image with a positive core`,
    );
  }
  for (let k = 0; k < values.length; k++) values[k] = (values[k] as number) / sum;
  return { size, values };
}

/**
 * `kernel` (square, odd `size`) copied into the centre of a larger odd square of side
 * `to`, zeros around it.
 */
export function padKernelImage(kernel: KernelImage, to: number): Float64Array {
  if (to === kernel.size) return kernel.values.slice();
  if (to < kernel.size || (to - kernel.size) % 2 !== 0) {
    throw new ExposureError(
      'EXPOSURE_BAD_PSF',
      `cannot pad a ${kernel.size}-pixel kernel to ${to} pixels (must be larger and odd)`,
    );
  }
  const out = new Float64Array(to * to);
  const off = (to - kernel.size) / 2;
  for (let j = 0; j < kernel.size; j++) {
    out.set(kernel.values.subarray(j * kernel.size, (j + 1) * kernel.size), (j + off) * to + off);
  }
  return out;
}
