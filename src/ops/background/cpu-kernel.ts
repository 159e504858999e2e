/**
 * Kernels of `background` for the CPU backend (worker threads over shared memory).
 * Bin statistics follow spec.ts exactly as shaders/background.wgsl computes them: exact
 * order statistics, then float32 sums over 256 lanes added as a binary tree.
 */

const fround = Math.fround;
const LANES = 256;
const IQR_TO_SIGMA = fround(0.741);

/** Arguments of `binStats`: rows are rows of bins [start, end). */
export interface BinStatsArgs {
  readonly img: Float32Array;
  readonly msk: Int32Array;
  readonly width: number;
  readonly nx: number;
  readonly binX: Int32Array;
  readonly binY: Int32Array;
  readonly ignoreBits: number;
  readonly numSigmaClip: number;
  readonly numIter: number;
  /** Outputs, nx * ny each (shared). */
  readonly values: Float32Array;
  readonly counts: Int32Array;
  readonly stdevs: Float32Array;
  readonly start: number;
  readonly end: number;
}

/**
 * Clipped mean, count and clipped stdev of every bin in bin rows [start, end). Each bin
 * is copied once into a local stamp (row-major within the bin, NaN where a pixel is not
 * good) and a compact list of its good values (for the order statistics); the clipping
 * passes then accumulate lane by lane (lane l holds stamp elements l, l + 256, ..., in
 * that order, in float32), which is the per-lane order of spec.ts.
 */
export function binStats(a: BinStatsArgs): void {
  const img = a.img;
  const msk = a.msk;
  const W = a.width;
  const nx = a.nx;
  const binX = a.binX;
  const binY = a.binY;
  const ignoreBits = a.ignoreBits;
  const numIter = a.numIter;
  const values = a.values;
  const counts = a.counts;
  const stdevs = a.stdevs;
  const lanes = new Float32Array(LANES);
  let scratch = new Float32Array(0);
  let stamp = new Float32Array(0);
  const k = fround(a.numSigmaClip);
  for (let iy = a.start; iy < a.end; iy++) {
    const y0 = binY[iy] as number;
    const y1 = binY[iy + 1] as number;
    for (let ix = 0; ix < nx; ix++) {
      const x0 = binX[ix] as number;
      const x1 = binX[ix + 1] as number;
      const bw = x1 - x0;
      const np = bw * (y1 - y0);
      const b = iy * nx + ix;
      if (scratch.length < np) {
        scratch = new Float32Array(np);
        stamp = new Float32Array(np);
      }
      let n = 0;
      let j = 0;
      for (let y = y0; y < y1; y++) {
        const row = y * W;
        for (let x = x0; x < x1; x++, j++) {
          const v = img[row + x] as number;
          if (((msk[row + x] as number) & ignoreBits) === 0 && v - v === 0) {
            scratch[n++] = v;
            stamp[j] = v;
          } else stamp[j] = Number.NaN;
        }
      }
      counts[b] = n;
      if (n === 0) {
        values[b] = Number.NaN;
        stdevs[b] = Number.NaN;
        continue;
      }
      const r25 = Math.floor(0.25 * (n - 1));
      const r50 = Math.floor(0.5 * (n - 1));
      const r75 = Math.floor(0.75 * (n - 1));
      const sel = scratch.subarray(0, n);
      const q50 = select(sel, 0, n - 1, r50);
      const q25 = select(sel, 0, r50, r25);
      const q75 = select(sel, r50, n - 1, r75);
      let center = q50;
      let hw = fround(k * fround(IQR_TO_SIGMA * fround(q75 - q25)));
      let value = Number.NaN;
      let stdev = Number.NaN;
      for (let it = 0; it < numIter; it++) {
        const clip = hw > 0;
        // Without clipping every good (non-NaN) value is kept: an infinite half-width.
        const h = clip ? hw : Number.POSITIVE_INFINITY;
        // Pass 1: sum and count of the kept pixels.
        let c = 0;
        for (let l = 0; l < LANES; l++) {
          let acc = 0;
          for (let q = l; q < np; q += LANES) {
            const v = stamp[q] as number;
            if (!(Math.abs(fround(v - center)) <= h)) continue;
            acc = fround(acc + v);
            c++;
          }
          lanes[l] = acc;
        }
        if (c === 0) break;
        const mean = fround(treeSum(lanes) / c);
        // Pass 2: squared deviations about the new mean, same pixels.
        for (let l = 0; l < LANES; l++) {
          let acc = 0;
          for (let q = l; q < np; q += LANES) {
            const v = stamp[q] as number;
            if (!(Math.abs(fround(v - center)) <= h)) continue;
            const d = fround(v - mean);
            acc = fround(acc + fround(d * d));
          }
          lanes[l] = acc;
        }
        const ss = treeSum(lanes);
        stdev = c > 1 ? fround(Math.sqrt(fround(ss / fround(c - 1)))) : 0;
        value = mean;
        center = mean;
        hw = fround(k * stdev);
      }
      values[b] = value;
      stdevs[b] = stdev;
    }
  }
}

/** Sum of the lanes as the GPU's workgroup tree reduction adds them (float32). */
function treeSum(lanes: Float32Array): number {
  for (let s = LANES >> 1; s > 0; s >>= 1) {
    for (let l = 0; l < s; l++) lanes[l] = (lanes[l] as number) + (lanes[l + s] as number);
  }
  return lanes[0] as number;
}

/**
 * The element of rank `r` of a[lo..hi] (inclusive), partially reordering it so that
 * a[lo..r-1] <= a[r] <= a[r+1..hi] (Hoare quickselect, median-of-three pivots).
 */
function select(a: Float32Array, lo0: number, hi0: number, r: number): number {
  let lo = lo0;
  let hi = hi0;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // Median of three into a[mid].
    if ((a[mid] as number) < (a[lo] as number)) swap(a, mid, lo);
    if ((a[hi] as number) < (a[lo] as number)) swap(a, hi, lo);
    if ((a[hi] as number) < (a[mid] as number)) swap(a, hi, mid);
    const pivot = a[mid] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (r <= j) hi = j;
    else if (r >= i) lo = i;
    else return a[r] as number;
  }
  return a[r] as number;
}

function swap(a: Float32Array, i: number, j: number): void {
  const t = a[i] as number;
  a[i] = a[j] as number;
  a[j] = t;
}

/** Arguments of `applyModel` (rows [start, end) of the image). */
export interface ApplyModelArgs {
  readonly img: Float32Array;
  readonly model: Float32Array;
  readonly out: Float32Array;
  readonly width: number;
  /** Per column: segment index and float32 local coordinate. */
  readonly seg: Int32Array;
  readonly t: Float32Array;
  /** Per row: nseg x 4 float32 coefficients (c0, c1, c2, c3). */
  readonly coef: Float32Array;
  readonly nseg: number;
  readonly start: number;
  readonly end: number;
}

/**
 * model = ((c3 t + c2) t + c1) t + c0 in float32; out = image - model. Columns are
 * walked segment by segment (seg is non-decreasing in x) with the coefficients in locals.
 */
export function applyModel(a: ApplyModelArgs): void {
  const W = a.width;
  const seg = a.seg;
  const t = a.t;
  const coef = a.coef;
  const img = a.img;
  const model = a.model;
  const out = a.out;
  const nseg4 = a.nseg * 4;
  // Column ranges of constant segment: [cut[i], cut[i + 1]) uses segment segOf[i].
  const cut: number[] = [0];
  const segOf: number[] = [];
  for (let x = 0; x < W; x++) {
    if (x > 0 && seg[x] !== seg[x - 1]) cut.push(x);
    if (x === 0 || seg[x] !== seg[x - 1]) segOf.push(seg[x] as number);
  }
  cut.push(W);
  const nr = segOf.length;
  for (let y = a.start; y < a.end; y++) {
    const crow = y * nseg4;
    const row = y * W;
    for (let r = 0; r < nr; r++) {
      const o = crow + 4 * (segOf[r] as number);
      const c0 = coef[o] as number;
      const c1 = coef[o + 1] as number;
      const c2 = coef[o + 2] as number;
      const c3 = coef[o + 3] as number;
      const xe = cut[r + 1] as number;
      for (let x = cut[r] as number; x < xe; x++) {
        const tt = t[x] as number;
        let m = fround(fround(c3 * tt) + c2);
        m = fround(fround(m * tt) + c1);
        m = fround(fround(m * tt) + c0);
        model[row + x] = m;
        out[row + x] = (img[row + x] as number) - m;
      }
    }
  }
}
