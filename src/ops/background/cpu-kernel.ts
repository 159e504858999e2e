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

/** Clipped mean, count and clipped stdev of every bin in bin rows [start, end). */
export function binStats(a: BinStatsArgs): void {
  const lanes = new Float32Array(LANES);
  let scratch = new Float32Array(0);
  const k = fround(a.numSigmaClip);
  for (let iy = a.start; iy < a.end; iy++) {
    const y0 = a.binY[iy] as number;
    const y1 = a.binY[iy + 1] as number;
    for (let ix = 0; ix < a.nx; ix++) {
      const x0 = a.binX[ix] as number;
      const x1 = a.binX[ix + 1] as number;
      const bw = x1 - x0;
      const b = iy * a.nx + ix;
      if (scratch.length < bw * (y1 - y0)) scratch = new Float32Array(bw * (y1 - y0));
      let n = 0;
      for (let y = y0; y < y1; y++) {
        const row = y * a.width;
        for (let x = x0; x < x1; x++) {
          const v = a.img[row + x] as number;
          if (((a.msk[row + x] as number) & a.ignoreBits) === 0 && v - v === 0) scratch[n++] = v;
        }
      }
      a.counts[b] = n;
      if (n === 0) {
        a.values[b] = Number.NaN;
        a.stdevs[b] = Number.NaN;
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
      for (let it = 0; it < a.numIter; it++) {
        const clip = hw > 0;
        // Pass 1: sum and count of the kept pixels.
        lanes.fill(0);
        let c = 0;
        for (let y = y0; y < y1; y++) {
          const row = y * a.width;
          const j0 = (y - y0) * bw - x0;
          for (let x = x0; x < x1; x++) {
            const v = a.img[row + x] as number;
            if (((a.msk[row + x] as number) & a.ignoreBits) !== 0 || v - v !== 0) continue;
            if (clip && !(Math.abs(fround(v - center)) <= hw)) continue;
            const l = (j0 + x) & (LANES - 1);
            lanes[l] = (lanes[l] as number) + v;
            c++;
          }
        }
        if (c === 0) break;
        const mean = fround(treeSum(lanes) / c);
        // Pass 2: squared deviations about the new mean, same pixels.
        lanes.fill(0);
        for (let y = y0; y < y1; y++) {
          const row = y * a.width;
          const j0 = (y - y0) * bw - x0;
          for (let x = x0; x < x1; x++) {
            const v = a.img[row + x] as number;
            if (((a.msk[row + x] as number) & a.ignoreBits) !== 0 || v - v !== 0) continue;
            if (clip && !(Math.abs(fround(v - center)) <= hw)) continue;
            const d = fround(v - mean);
            const l = (j0 + x) & (LANES - 1);
            lanes[l] = (lanes[l] as number) + fround(d * d);
          }
        }
        const ss = treeSum(lanes);
        stdev = c > 1 ? fround(Math.sqrt(fround(ss / fround(c - 1)))) : 0;
        value = mean;
        center = mean;
        hw = fround(k * stdev);
      }
      a.values[b] = value;
      a.stdevs[b] = stdev;
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

/** model = ((c3 t + c2) t + c1) t + c0 in float32; out = image - model. */
export function applyModel(a: ApplyModelArgs): void {
  const { width: W, seg, t, coef } = a;
  for (let y = a.start; y < a.end; y++) {
    const crow = y * a.nseg * 4;
    const row = y * W;
    for (let x = 0; x < W; x++) {
      const o = crow + 4 * (seg[x] as number);
      const tt = t[x] as number;
      let m = fround(fround((coef[o + 3] as number) * tt) + (coef[o + 2] as number));
      m = fround(fround(m * tt) + (coef[o + 1] as number));
      m = fround(fround(m * tt) + (coef[o] as number));
      a.model[row + x] = m;
      a.out[row + x] = (a.img[row + x] as number) - m;
    }
  }
}
