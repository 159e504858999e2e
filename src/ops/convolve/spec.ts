/**
 * `convolve`: a MaskedImage convolved with a kernel (LSST's afw.math.convolve semantics).
 *
 * Definition (0-based pixels, kernel K of kw x kh, odd sizes, centre (rx, ry) =
 * ((kw-1)/2, (kh-1)/2)):
 *   image'(x, y)    = sum_{j,i} K[j][i]   * image(x + rx - i, y + ry - j)
 *   variance'(x, y) = sum_{j,i} K[j][i]^2 * variance(x + rx - i, y + ry - j)
 *   mask'(x, y)     = OR over the taps with K[j][i] != 0 of mask(x + rx - i, y + ry - j)
 * i.e. a true convolution (the kernel is flipped; symmetric kernels do not care).
 * With `normalize` (default, as LSST's doNormalize) K is divided by its sum first.
 *
 * Edge: pixels closer than (rx, ry) to the border cannot be reached by the kernel. With
 * `edge: 'nan'` (default, LSST's doCopyEdge=False) they become image NaN, variance +Inf
 * and mask EDGE | NO_DATA; with `edge: 'copy'` the input pixel is copied and EDGE OR-ed in.
 *
 * Non-finite values: a NaN or infinite image or variance under a non-zero tap makes the
 * sum non-finite; such output pixels are set to image NaN, variance +Inf, and get the
 * NO_DATA bit on top of the OR of their taps' bits — they never spread silently. With
 * `nonFinite: 'zero'` a pixel whose image or variance is not finite instead enters the
 * sums as image 0 and variance 0 (its mask bits still OR in): what detection's smoothing
 * wants, without a cleaned copy of the input.
 *
 * Arithmetic: float32 on both backends, taps summed in kernel order (x fastest); the
 * separable form runs a horizontal pass (rows) then a vertical pass, rounding to f32
 * between them. CPU and GPU agree to rounding (GPUs may fuse multiply-adds).
 */
import { z } from 'zod';
import type { MaskedImage } from '../../image/masked-image.ts';
import { OpInputError } from '../errors.ts';

const OP = 'convolve';

/** Largest kernel side the op accepts (pixels). */
export const MAX_KERNEL_SIZE = 255;

const finite = z.number({ error: 'must be a finite number' });

/** A kernel: a Gaussian (separable), any 1-D pair (separable), or a general 2-D table. */
export const KernelSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('gaussian'),
    /** Standard deviation in pixels. */
    sigma: finite.refine((s) => s > 0, { message: 'must be > 0' }),
    /** Odd side length in pixels; default 2 * round(4 sigma) + 1. */
    size: z.number().int().optional(),
  }),
  z.object({
    kind: z.literal('separable'),
    /** Taps along x (odd count); the 2-D kernel is kx[i] * ky[j]. */
    kx: z.array(finite).min(1),
    /** Taps along y (odd count). */
    ky: z.array(finite).min(1),
  }),
  z.object({
    kind: z.literal('general'),
    width: z.number().int(),
    height: z.number().int(),
    /** Row-major taps: values[j * width + i] is K[j][i]. */
    values: z.array(finite).min(1),
  }),
]);
export type Kernel = z.infer<typeof KernelSchema>;

export const ConvolveParamsSchema = z.object({
  kernel: KernelSchema,
  /** Divide the kernel by its sum (default true). */
  normalize: z.boolean().default(true),
  /** Policy for the border the kernel cannot reach (see module comment). */
  edge: z.enum(['nan', 'copy']).default('nan'),
  /** Non-finite input pixels: make their sums non-finite (default), or count as 0. */
  nonFinite: z.enum(['propagate', 'zero']).default('propagate'),
});
export type ConvolveParams = z.input<typeof ConvolveParamsSchema>;

/** Everything both implementations need, computed once on the host. */
export type PreparedConvolve = {
  readonly width: number;
  readonly height: number;
  /** Half-widths: the kernel reaches rx columns and ry rows from the centre. */
  readonly rx: number;
  readonly ry: number;
  readonly edge: 'nan' | 'copy';
  readonly edgeBits: number;
  readonly noDataBits: number;
  /** Non-finite input pixels count as image 0, variance 0 in the sums. */
  readonly zeroNonFinite: boolean;
} & (
  | {
      readonly separable: true;
      /** Flipped, normalized f32 taps: out(x) = sum_i fx[i] * in(x - rx + i). */
      readonly fx: Float32Array;
      readonly fy: Float32Array;
      /** Squares of fx, fy in f32 (for the variance). */
      readonly fx2: Float32Array;
      readonly fy2: Float32Array;
    }
  | {
      readonly separable: false;
      /** Flipped, normalized f32 table, row-major kh x kw. */
      readonly f: Float32Array;
      readonly f2: Float32Array;
      readonly kw: number;
      readonly kh: number;
    }
);

/** Gaussian taps exp(-x^2 / 2 sigma^2) at integer offsets, not normalized. */
export function gaussianTaps(sigma: number, size: number): number[] {
  const r = (size - 1) / 2;
  const out: number[] = [];
  for (let i = 0; i < size; i++) out.push(Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  return out;
}

/** Default Gaussian size: 2 * round(4 sigma) + 1 pixels. */
export function defaultGaussianSize(sigma: number): number {
  return 2 * Math.round(4 * sigma) + 1;
}

function checkOdd(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n % 2 === 0) {
    throw new OpInputError(
      OP,
      `${what} is ${n}; kernels need an odd size >= 1 so they have a centre pixel (pad with a zero tap)`,
    );
  }
  if (n > MAX_KERNEL_SIZE) {
    throw new OpInputError(
      OP,
      `${what} is ${n} > ${MAX_KERNEL_SIZE}; use an FFT-based method for kernels this large`,
    );
  }
}

function normalized(values: readonly number[], normalize: boolean, what: string): number[] {
  if (!normalize) return [...values];
  let s = 0;
  for (const v of values) s += v;
  if (!(Math.abs(s) > 1e-300) || !Number.isFinite(s)) {
    throw new OpInputError(
      OP,
      `${what} sums to ${s}, so it cannot be normalized; pass normalize: false for zero-sum kernels`,
    );
  }
  return values.map((v) => v / s);
}

function f32Flipped(values: readonly number[]): Float32Array {
  const n = values.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = values[n - 1 - i] as number;
  return out;
}

function squares(a: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.fround((a[i] as number) * (a[i] as number));
  return out;
}

/** Validate the inputs and parameters and build the kernel tables. */
export function prepareConvolve(mi: MaskedImage, params: ConvolveParams): PreparedConvolve {
  const parsed = ConvolveParamsSchema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || 'params';
    throw new OpInputError(
      OP,
      `invalid ${path}: ${issue?.message ?? 'bad value'}; see ConvolveParams`,
    );
  }
  const p = parsed.data;
  const { width, height } = mi;
  if (width === 0 || height === 0) {
    throw new OpInputError(OP, `the image is ${width}x${height}; give it at least one pixel`);
  }
  const bits = mi.mask.planes;
  if (!bits.has('EDGE') || !bits.has('NO_DATA')) {
    throw new OpInputError(
      OP,
      'the mask has no EDGE or NO_DATA plane; add them (MaskPlaneDict.withPlane)',
    );
  }
  const edgeBits = bits.bitMask('EDGE') | (p.edge === 'nan' ? bits.bitMask('NO_DATA') : 0);
  const noDataBits = bits.bitMask('NO_DATA');
  const k = p.kernel;
  const common = (kw: number, kh: number) => {
    if (kw > width || kh > height) {
      throw new OpInputError(
        OP,
        `kernel ${kw}x${kh} is larger than the image ${width}x${height}; use a smaller kernel or a larger image`,
      );
    }
    return {
      width,
      height,
      rx: (kw - 1) / 2,
      ry: (kh - 1) / 2,
      edge: p.edge,
      edgeBits,
      noDataBits,
      zeroNonFinite: p.nonFinite === 'zero',
    };
  };
  if (k.kind === 'general') {
    checkOdd('kernel width', k.width);
    checkOdd('kernel height', k.height);
    if (k.values.length !== k.width * k.height) {
      throw new OpInputError(
        OP,
        `a ${k.width}x${k.height} kernel needs ${k.width * k.height} values, got ${k.values.length}`,
      );
    }
    const f = f32Flipped(normalized(k.values, p.normalize, 'the kernel'));
    return {
      ...common(k.width, k.height),
      separable: false,
      f,
      f2: squares(f),
      kw: k.width,
      kh: k.height,
    };
  }
  let kx: number[];
  let ky: number[];
  if (k.kind === 'gaussian') {
    const size = k.size ?? defaultGaussianSize(k.sigma);
    checkOdd('gaussian size', size);
    kx = gaussianTaps(k.sigma, size);
    ky = kx;
  } else {
    checkOdd('kx length', k.kx.length);
    checkOdd('ky length', k.ky.length);
    kx = k.kx;
    ky = k.ky;
  }
  const fx = f32Flipped(normalized(kx, p.normalize, 'kx'));
  const fy = f32Flipped(normalized(ky, p.normalize, 'ky'));
  return {
    ...common(fx.length, fy.length),
    separable: true,
    fx,
    fy,
    fx2: squares(fx),
    fy2: squares(fy),
  };
}
