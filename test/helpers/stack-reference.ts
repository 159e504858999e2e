/**
 * The stack statistics of src/ops/stack/spec.ts written plainly in float64, for the
 * conformance suite. Independent of both backends' code.
 */
import type { MaskedImage } from '../../src/image/masked-image.ts';

export interface StackRef {
  readonly img: Float64Array;
  readonly vr: Float64Array;
  readonly msk: Int32Array;
  readonly coverage: Int32Array;
}

export function referenceStack(
  inputs: readonly MaskedImage[],
  o: {
    statistic: 'MEAN' | 'MEANCLIP' | 'MEDIAN';
    weights: ArrayLike<number> | null;
    k: number;
    numIter: number;
    badBits: number;
    noData: number;
    clipped: number;
    rejected: number;
    thresholds: Array<[number, number]>;
  },
): StackRef {
  const n = inputs[0]!.width * inputs[0]!.height;
  const out: StackRef = {
    img: new Float64Array(n),
    vr: new Float64Array(n),
    msk: new Int32Array(n),
    coverage: new Int32Array(n),
  };
  const q = (s: number[], f: number) => {
    const pos = (s.length - 1) * f;
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, s.length - 1);
    return s[lo]! + (pos - lo) * (s[hi]! - s[lo]!);
  };
  for (let p = 0; p < n; p++) {
    const good: Array<{ x: number; v: number; w: number; m: number }> = [];
    let covW = 0;
    let rejected = false;
    const rejW = o.thresholds.map(() => 0);
    inputs.forEach((mi, i) => {
      const m = mi.mask.data[p]!;
      if (m & o.noData) return;
      const x = mi.image.data[p]!;
      const v = mi.variance.data[p]!;
      const w = o.weights ? o.weights[i]! : v > 0 && Number.isFinite(v) ? 1 / v : 0;
      covW += w;
      if (m & o.badBits || !Number.isFinite(x) || !Number.isFinite(v) || !(w > 0)) {
        rejected = true;
        o.thresholds.forEach(([bit], t) => {
          if (m & bit) rejW[t]! += w;
        });
        return;
      }
      good.push({ x, v, w, m });
    });
    let extra = rejected ? o.rejected : 0;
    o.thresholds.forEach(([bit, thr], t) => {
      if (covW > 0 && rejW[t]! / covW > thr) extra |= bit;
    });
    if (good.length === 0) {
      out.img[p] = Number.NaN;
      out.vr[p] = Number.POSITIVE_INFINITY;
      out.msk[p] = o.noData | extra;
      continue;
    }
    const sorted = good.map((g) => g.x).sort((a, b) => a - b);
    const ng = sorted.length;
    const median = ng % 2 ? sorted[(ng - 1) / 2]! : (sorted[ng / 2 - 1]! + sorted[ng / 2]!) / 2;
    let kept = good;
    if (o.statistic === 'MEANCLIP') {
      let center = median;
      let hw = o.k * 0.741 * (q(sorted, 0.75) - q(sorted, 0.25));
      for (let pass = 0; pass < o.numIter; pass++) {
        if (pass > 0) {
          const sw = kept.reduce((s, g) => s + g.w, 0);
          const mu = kept.reduce((s, g) => s + g.w * g.x, 0) / sw;
          const ss = kept.reduce((s, g) => s + (g.x - mu) ** 2, 0);
          center = mu;
          hw = kept.length >= 2 ? o.k * Math.sqrt(ss / (kept.length - 1)) : 0;
        }
        if (!(hw > 0)) continue;
        const next = good.filter((g) => Math.abs(g.x - center) <= hw);
        if (next.length > 0) kept = next;
      }
    }
    const sw = kept.reduce((s, g) => s + g.w, 0);
    out.img[p] = o.statistic === 'MEDIAN' ? median : kept.reduce((s, g) => s + g.w * g.x, 0) / sw;
    out.vr[p] =
      (kept.reduce((s, g) => s + g.w * g.w * g.v, 0) / (sw * sw)) *
      (o.statistic === 'MEDIAN' ? Math.PI / 2 : 1);
    out.msk[p] =
      kept.reduce((m, g) => m | g.m, 0) | extra | (kept.length < good.length ? o.clipped : 0);
    out.coverage[p] = kept.length;
  }
  return out;
}
