/**
 * Naive direct convolution in float64, straight from the definition in
 * src/ops/convolve/spec.ts: the reference the conformance suite checks both backends
 * against. Returns the sums and, per pixel, the sum of |terms| (for tolerances).
 */
import type { MaskedImage } from '../../src/image/masked-image.ts';

export interface Reference {
  readonly img: Float64Array;
  readonly vr: Float64Array;
  readonly msk: Int32Array;
  /** sum |K v| and sum K^2 |var| per pixel: the scale of rounding errors. */
  readonly absImg: Float64Array;
  readonly absVar: Float64Array;
}

/** K as a normalized (if asked) f64 table, row-major kh x kw. */
export function kernelTable(
  k:
    | { kind: 'gaussian'; sigma: number; size: number }
    | { kind: 'separable'; kx: number[]; ky: number[] }
    | { kind: 'general'; width: number; height: number; values: number[] },
  normalize: boolean,
): { kw: number; kh: number; K: Float64Array } {
  const norm = (a: number[]) => {
    if (!normalize) return a;
    const s = a.reduce((p, v) => p + v, 0);
    return a.map((v) => v / s);
  };
  if (k.kind === 'general') {
    return { kw: k.width, kh: k.height, K: Float64Array.from(norm(k.values)) };
  }
  let kx: number[];
  let ky: number[];
  if (k.kind === 'gaussian') {
    const r = (k.size - 1) / 2;
    kx = Array.from({ length: k.size }, (_, i) =>
      Math.exp(-((i - r) ** 2) / (2 * k.sigma * k.sigma)),
    );
    ky = kx;
  } else {
    kx = k.kx;
    ky = k.ky;
  }
  const nx = norm(kx);
  const ny = norm(ky);
  const K = new Float64Array(nx.length * ny.length);
  for (let j = 0; j < ny.length; j++)
    for (let i = 0; i < nx.length; i++) K[j * nx.length + i] = ny[j]! * nx[i]!;
  return { kw: nx.length, kh: ny.length, K };
}

/** Direct convolution of `mi` by table K (kw x kh), with the edge policy of the op. */
export function referenceConvolve(
  mi: MaskedImage,
  t: { kw: number; kh: number; K: Float64Array },
  edge: 'nan' | 'copy',
  edgeBits: number,
  noDataBits: number,
  pixels?: ReadonlyArray<readonly [number, number]>,
): Reference {
  const W = mi.width;
  const H = mi.height;
  const rx = (t.kw - 1) / 2;
  const ry = (t.kh - 1) / 2;
  const out: Reference = {
    img: new Float64Array(W * H),
    vr: new Float64Array(W * H),
    msk: new Int32Array(W * H),
    absImg: new Float64Array(W * H),
    absVar: new Float64Array(W * H),
  };
  const src = mi.image.data;
  const sv = mi.variance.data;
  const sm = mi.mask.data;
  const one = (x: number, y: number) => {
    const o = y * W + x;
    if (x < rx || x >= W - rx || y < ry || y >= H - ry) {
      if (edge === 'copy') {
        out.img[o] = src[o]!;
        out.vr[o] = sv[o]!;
        out.msk[o] = sm[o]! | edgeBits;
      } else {
        out.img[o] = Number.NaN;
        out.vr[o] = Number.POSITIVE_INFINITY;
        out.msk[o] = edgeBits;
      }
      return;
    }
    let si = 0;
    let sVar = 0;
    let ai = 0;
    let av = 0;
    let m = 0;
    for (let j = 0; j < t.kh; j++) {
      for (let i = 0; i < t.kw; i++) {
        const k = t.K[j * t.kw + i]!;
        if (k === 0) continue;
        const p = (y + ry - j) * W + (x + rx - i);
        si += k * src[p]!;
        sVar += k * k * sv[p]!;
        ai += Math.abs(k * src[p]!);
        av += Math.abs(k * k * sv[p]!);
        m |= sm[p]!;
      }
    }
    if (!Number.isFinite(si) || !Number.isFinite(sVar)) {
      out.img[o] = Number.NaN;
      out.vr[o] = Number.POSITIVE_INFINITY;
      out.msk[o] = m | noDataBits;
    } else {
      out.img[o] = si;
      out.vr[o] = sVar;
      out.msk[o] = m;
    }
    out.absImg[o] = ai;
    out.absVar[o] = av;
  };
  if (pixels) for (const [x, y] of pixels) one(x, y);
  else for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) one(x, y);
  return out;
}
