/**
 * Accumulation of one warp into the running MEAN sums, and the final division; float32
 * in the order of src/ops/stack/cpu-kernel.ts#stackRows (MEAN), so the streaming coadd
 * has the very bits of stacking the same warps.
 */

const fround = Math.fround;

/** Running sums, one entry per target pixel. */
export interface Sums {
  readonly sx: Float32Array;
  readonly sw: Float32Array;
  readonly sv: Float32Array;
  readonly covW: Float32Array;
  readonly rejW: Float32Array;
  readonly msk: Int32Array;
  readonly count: Int32Array;
  readonly rejected: Int32Array;
}

/** Add one warp (weight w) to the sums over pixels of rows [start, end) (`width` columns). */
export function accumulateRows(a: {
  img: Float32Array;
  vr: Float32Array;
  msk: Int32Array;
  sums: Sums;
  w: number;
  badBits: number;
  noDataBits: number;
  thrBits: number;
  width: number;
  start: number;
  end: number;
}): void {
  const { img, vr, msk, w, badBits, noDataBits, thrBits } = a;
  const { sx, sw, sv, covW, rejW, count, rejected } = a.sums;
  const sm = a.sums.msk;
  const w2 = fround(w * w);
  for (let p = a.start * a.width; p < a.end * a.width; p++) {
    const m = msk[p] as number;
    if ((m & noDataBits) !== 0) continue;
    const x = img[p] as number;
    const v = vr[p] as number;
    covW[p] = fround((covW[p] as number) + w);
    if ((m & badBits) !== 0 || x - x !== 0 || v - v !== 0 || !(w > 0)) {
      rejected[p] = 1;
      if ((m & thrBits) !== 0) rejW[p] = fround((rejW[p] as number) + w);
      continue;
    }
    sx[p] = fround((sx[p] as number) + fround(w * x));
    sw[p] = fround((sw[p] as number) + w);
    sv[p] = fround((sv[p] as number) + fround(w2 * v));
    sm[p] = (sm[p] as number) | m;
    count[p] = (count[p] as number) + 1;
  }
}

/** The coadd from the sums over rows [start, end). */
export function finalizeRows(a: {
  sums: Sums;
  outImg: Float32Array;
  outVar: Float32Array;
  outMsk: Int32Array;
  coverage: Int32Array;
  noDataBits: number;
  rejectedBits: number;
  thrBits: number;
  threshold: number;
  width: number;
  start: number;
  end: number;
}): void {
  const { sx, sw, sv, covW, rejW, msk, count, rejected } = a.sums;
  for (let p = a.start * a.width; p < a.end * a.width; p++) {
    let extra = rejected[p] ? a.rejectedBits : 0;
    const cw = covW[p] as number;
    if (a.thrBits !== 0 && cw > 0 && fround((rejW[p] as number) / cw) > a.threshold)
      extra |= a.thrBits;
    const n = count[p] as number;
    a.coverage[p] = n;
    if (n === 0) {
      a.outImg[p] = Number.NaN;
      a.outVar[p] = Number.POSITIVE_INFINITY;
      a.outMsk[p] = a.noDataBits | extra;
      continue;
    }
    const s = sw[p] as number;
    a.outImg[p] = fround((sx[p] as number) / s);
    a.outVar[p] = fround((sv[p] as number) / fround(s * s));
    a.outMsk[p] = (msk[p] as number) | extra;
  }
}
