/**
 * Row kernels of `stack` for the CPU backend (worker threads over shared memory). The
 * arithmetic is float32 (Math.fround after every operation) in the order of
 * shaders/stack.wgsl, so both backends keep, clip and sum the same inputs.
 */

const fround = Math.fround;
const HALF_PI = fround(Math.PI / 2);
const IQR_TO_SIGMA = fround(0.741);

/** The N input planes (row-major, `width` columns, whole images). */
export interface StackInputs {
  readonly imgs: readonly Float32Array[];
  readonly vrs: readonly Float32Array[];
  readonly msks: readonly Int32Array[];
}

/** Sum and count of the variance over each input's good pixels in rows [start, end). */
export function varianceSums(
  a: StackInputs & { width: number; badBits: number; start: number; end: number },
): { sums: number[]; counts: number[] } {
  const sums: number[] = [];
  const counts: number[] = [];
  const from = a.start * a.width;
  const to = a.end * a.width;
  for (let i = 0; i < a.imgs.length; i++) {
    const img = a.imgs[i] as Float32Array;
    const vr = a.vrs[i] as Float32Array;
    const m = a.msks[i] as Int32Array;
    let s = 0;
    let c = 0;
    for (let p = from; p < to; p++) {
      const v = vr[p] as number;
      const x = img[p] as number;
      // x - x is 0 exactly for finite x.
      if (((m[p] as number) & a.badBits) === 0 && v - v === 0 && x - x === 0) {
        s += v;
        c++;
      }
    }
    sums.push(s);
    counts.push(c);
  }
  return { sums, counts };
}

/** Arguments of `stackRows`. */
export interface StackRowsArgs extends StackInputs {
  readonly width: number;
  readonly statCode: number;
  readonly numSigmaClip: number;
  readonly numIter: number;
  readonly perPixel: boolean;
  readonly weights: Float32Array;
  readonly badBits: number;
  readonly noDataBits: number;
  readonly clippedBits: number;
  readonly rejectedBits: number;
  readonly thresholdBits: Int32Array;
  readonly thresholds: Float32Array;
  readonly outImg: Float32Array;
  readonly outVar: Float32Array;
  readonly outMsk: Int32Array;
  readonly coverage: Int32Array;
  readonly start: number;
  readonly end: number;
}

/** Stack rows [start, end) of the patch; see spec.ts for the statistics. */
export function stackRows(a: StackRowsArgs): void {
  const n = a.imgs.length;
  const nt = a.thresholds.length;
  // Per-pixel scratch, allocated once per band.
  const xs = new Float32Array(n);
  const ws = new Float32Array(n);
  const vs = new Float32Array(n);
  const ms = new Int32Array(n);
  const sorted = new Float32Array(n);
  const keep = new Uint8Array(n);
  const next = new Uint8Array(n);
  const rejW = new Float32Array(nt);
  const k = fround(a.numSigmaClip);
  const { imgs, vrs, msks, weights, badBits, noDataBits } = a;
  for (let p = a.start * a.width; p < a.end * a.width; p++) {
    let ng = 0;
    let rejected = false;
    let covW = 0;
    rejW.fill(0);
    for (let i = 0; i < n; i++) {
      const m = (msks[i] as Int32Array)[p] as number;
      if ((m & noDataBits) !== 0) continue;
      const x = (imgs[i] as Float32Array)[p] as number;
      const v = (vrs[i] as Float32Array)[p] as number;
      const w = a.perPixel ? (v > 0 && v - v === 0 ? fround(1 / v) : 0) : (weights[i] as number);
      covW = fround(covW + w);
      if ((m & badBits) !== 0 || x - x !== 0 || v - v !== 0 || !(w > 0) || w - w !== 0) {
        rejected = true;
        for (let t = 0; t < nt; t++)
          if ((m & (a.thresholdBits[t] as number)) !== 0) rejW[t] = fround((rejW[t] as number) + w);
        continue;
      }
      xs[ng] = x;
      ws[ng] = w;
      vs[ng] = v;
      ms[ng] = m;
      ng++;
    }
    let extra = rejected ? a.rejectedBits : 0;
    for (let t = 0; t < nt; t++) {
      if (covW > 0 && fround((rejW[t] as number) / covW) > (a.thresholds[t] as number))
        extra |= a.thresholdBits[t] as number;
    }
    if (ng === 0) {
      a.outImg[p] = Number.NaN;
      a.outVar[p] = Number.POSITIVE_INFINITY;
      a.outMsk[p] = noDataBits | extra;
      a.coverage[p] = 0;
      continue;
    }
    keep.fill(1, 0, ng);
    let value = 0;
    if (a.statCode !== 0) {
      for (let i = 0; i < ng; i++) {
        // Insertion sort of the good values.
        const x = xs[i] as number;
        let j = i - 1;
        while (j >= 0 && (sorted[j] as number) > x) {
          sorted[j + 1] = sorted[j] as number;
          j--;
        }
        sorted[j + 1] = x;
      }
      const median =
        ng % 2 === 1
          ? (sorted[(ng - 1) >> 1] as number)
          : fround(fround((sorted[ng / 2 - 1] as number) + (sorted[ng / 2] as number)) * 0.5);
      if (a.statCode === 2) {
        value = median;
      } else {
        // Pass 1: about the median, width from the interquartile range.
        const iqr = fround(quantile(sorted, ng, 0.75) - quantile(sorted, ng, 0.25));
        let center = median;
        let hw = fround(k * fround(IQR_TO_SIGMA * iqr));
        for (let pass = 0; pass < a.numIter; pass++) {
          if (pass > 0) {
            // Later passes: about the weighted mean of the kept set, width from its scatter.
            let sw = 0;
            let sx = 0;
            let nk = 0;
            for (let i = 0; i < ng; i++) {
              if (keep[i] === 0) continue;
              sw = fround(sw + (ws[i] as number));
              sx = fround(sx + fround((ws[i] as number) * (xs[i] as number)));
              nk++;
            }
            const mu = fround(sx / sw);
            let ss = 0;
            for (let i = 0; i < ng; i++) {
              if (keep[i] === 0) continue;
              const d = fround((xs[i] as number) - mu);
              ss = fround(ss + fround(d * d));
            }
            center = mu;
            hw = nk >= 2 ? fround(k * fround(Math.sqrt(fround(ss / (nk - 1))))) : 0;
          }
          if (!(hw > 0)) continue;
          let nk = 0;
          for (let i = 0; i < ng; i++) {
            const keepIt = fround(Math.abs(fround((xs[i] as number) - center))) <= hw ? 1 : 0;
            next[i] = keepIt;
            nk += keepIt;
          }
          if (nk > 0) keep.set(next.subarray(0, ng));
        }
      }
    }
    let sw = 0;
    let sx = 0;
    let sv = 0;
    let m = 0;
    let nk = 0;
    for (let i = 0; i < ng; i++) {
      if (keep[i] === 0) continue;
      const w = ws[i] as number;
      sw = fround(sw + w);
      sx = fround(sx + fround(w * (xs[i] as number)));
      sv = fround(sv + fround(fround(w * w) * (vs[i] as number)));
      m |= ms[i] as number;
      nk++;
    }
    if (a.statCode !== 2) value = fround(sx / sw);
    let variance = fround(sv / fround(sw * sw));
    if (a.statCode === 2) variance = fround(variance * HALF_PI);
    if (nk < ng) extra |= a.clippedBits;
    a.outImg[p] = value;
    a.outVar[p] = variance;
    a.outMsk[p] = m | extra;
    a.coverage[p] = nk;
  }
}

/** Quantile q of the first n sorted values, linear interpolation at (n - 1) q, in f32. */
function quantile(s: Float32Array, n: number, q: number): number {
  const pos = fround((n - 1) * q);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const fr = fround(pos - lo);
  const a = s[lo] as number;
  return fround(a + fround(fr * fround((s[hi] as number) - a)));
}
