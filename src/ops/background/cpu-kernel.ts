/**
 * Kernels of `background` for the CPU backend (worker threads over shared memory).
 * Bin statistics follow spec.ts exactly as shaders/background.wgsl computes them: exact
 * order statistics, then float32 sums over 256 lanes added as a binary tree.
 */

import { compileWat, WasmScratch } from '../../compute/cpu/wasm.ts';
import { selectRank } from '../quickselect.ts';
import type { InterpStyle } from './interpolate.ts';
import { type ColumnSplines, rowCoefficients } from './model.ts';
import { BACKGROUND_WAT } from './wat.ts';

const fround = Math.fround;

let scratch: Promise<WasmScratch> | null = null;

/** This thread's instance of the SIMD kernels (wat.ts). */
function kernel(): Promise<WasmScratch> {
  scratch ??= compileWat('background', BACKGROUND_WAT).then((m) => new WasmScratch(m));
  return scratch;
}

type ClipSumFn = (s: number, nb: number, c: number, h: number, lanes: number) => number;
type ClipSqFn = (s: number, nb: number, c: number, h: number, mean: number, lanes: number) => void;
type PolyFn = (...a: number[]) => void;
type BracketFn = (...a: number[]) => void;
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
 * is copied once into the SIMD kernel's memory (row-major within the bin, NaN where a
 * pixel is not good, padded with NaN to whole blocks of 256) and into a compact list of
 * its good values (for the order statistics); the clipping passes (wat.ts clipSum,
 * clipSq) accumulate element j into lane j mod 256 in float32, in order, as spec.ts.
 */
export async function binStats(a: BinStatsArgs): Promise<void> {
  const k0 = await kernel();
  const clipSum = k0.fn<ClipSumFn>('clipSum');
  const clipSq = k0.fn<ClipSqFn>('clipSq');
  const bracket = k0.fn<BracketFn>('bracket');
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
  let scratchVals = new Float32Array(0);
  const k = fround(a.numSigmaClip);
  const LANES_AT = 0;
  const STAMP_AT = 4 * LANES;
  for (let iy = a.start; iy < a.end; iy++) {
    const y0 = binY[iy] as number;
    const y1 = binY[iy + 1] as number;
    for (let ix = 0; ix < nx; ix++) {
      const x0 = binX[ix] as number;
      const x1 = binX[ix + 1] as number;
      const np = (x1 - x0) * (y1 - y0);
      const nb = Math.ceil(np / LANES);
      const b = iy * nx + ix;
      if (scratchVals.length < np) scratchVals = new Float32Array(np);
      const ns = LANES * nb;
      // Memory: lanes, the stamp, three brackets of ns float32 each, six int32 results.
      const B0 = STAMP_AT + 4 * ns;
      const OUT = B0 + 3 * 4 * ns;
      k0.reserve(OUT + 32);
      const buf = k0.memory.buffer;
      const stamp = new Float32Array(buf, STAMP_AT, ns);
      const lanes = new Float32Array(buf, LANES_AT, LANES);
      const sv = scratchVals;
      let n = 0;
      let j = 0;
      for (let y = y0; y < y1; y++) {
        const row = y * W;
        for (let x = x0; x < x1; x++, j++) {
          const v = img[row + x] as number;
          if (((msk[row + x] as number) & ignoreBits) === 0 && v - v === 0) {
            sv[n++] = v;
            stamp[j] = v;
          } else stamp[j] = Number.NaN;
        }
      }
      stamp.fill(Number.NaN, np);
      counts[b] = n;
      if (n === 0) {
        values[b] = Number.NaN;
        stdevs[b] = Number.NaN;
        continue;
      }
      const r25 = Math.floor(0.25 * (n - 1));
      const r50 = Math.floor(0.5 * (n - 1));
      const r75 = Math.floor(0.75 * (n - 1));
      const q = quartiles(sv, n, r25, r50, r75, (lo, hi) => {
        bracket(
          STAMP_AT,
          ns,
          lo[0],
          hi[0],
          lo[1],
          hi[1],
          lo[2],
          hi[2],
          B0,
          B0 + 4 * ns,
          B0 + 8 * ns,
          OUT,
        );
        const res = new Int32Array(buf, OUT, 6);
        const lt = [res[0] as number, res[1] as number, res[2] as number];
        const sub = (i: number) => new Float32Array(buf, B0 + 4 * ns * i, res[3 + i] as number);
        return { lt, buckets: [sub(0), sub(1), sub(2)] };
      });
      const q25 = q[0] as number;
      const q50 = q[1] as number;
      const q75 = q[2] as number;
      let center = q50;
      let hw = fround(k * fround(IQR_TO_SIGMA * fround(q75 - q25)));
      let value = Number.NaN;
      let stdev = Number.NaN;
      for (let it = 0; it < numIter; it++) {
        // Without clipping every good (non-NaN) value is kept: an infinite half-width.
        const h = hw > 0 ? hw : Number.POSITIVE_INFINITY;
        // Pass 1: sum and count of the kept pixels.
        const c = clipSum(STAMP_AT, nb, center, h, LANES_AT);
        if (c === 0) break;
        const mean = fround(treeSum(lanes) / c);
        // Pass 2: squared deviations about the new mean, same pixels.
        clipSq(STAMP_AT, nb, center, h, mean, LANES_AT);
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

/** Sample size of `quartiles`' brackets. */
const SAMPLE = 256;
const sample = new Float32Array(SAMPLE);
const RANK_FRACTIONS = [0.25, 0.5, 0.75];

/** Three values (one per quartile). */
type Triple = readonly [number, number, number];

/** What `quartiles`' bracket pass returns: per bracket, the count below it and its elements. */
interface Brackets {
  readonly lt: readonly number[];
  readonly buckets: readonly Float32Array[];
}

/**
 * The elements of ranks r25, r50, r75 of a[0..n) (exact order statistics; `a` may be
 * reordered). Large inputs: a sorted strided sample gives a bracket [lo, hi] around each
 * rank; `pass` (one pass over the data) counts the elements below lo and collects those
 * inside, and the rank is selected within its bracket when it lies there, else in the
 * whole array (so the value never depends on the sample).
 */
function quartiles(
  a: Float32Array,
  n: number,
  r25: number,
  r50: number,
  r75: number,
  pass: (lo: Triple, hi: Triple) => Brackets,
): [number, number, number] {
  if (n < 4 * SAMPLE) {
    const sel = a.subarray(0, n);
    const q50 = selectRank(sel, 0, n - 1, r50);
    const q25 = selectRank(sel, 0, r50, r25);
    const q75 = selectRank(sel, r50, n - 1, r75);
    return [q25, q50, q75];
  }
  for (let i = 0; i < SAMPLE; i++) sample[i] = a[Math.floor(((i + 0.5) * n) / SAMPLE)] as number;
  sample.sort();
  const lo: [number, number, number] = [0, 0, 0];
  const hi: [number, number, number] = [0, 0, 0];
  for (let b = 0; b < 3; b++) {
    const f = RANK_FRACTIONS[b] as number;
    const w = Math.ceil(3.5 * Math.sqrt(SAMPLE * f * (1 - f))) + 1;
    const c = Math.floor(f * SAMPLE);
    lo[b] = sample[Math.max(0, c - w)] as number;
    hi[b] = sample[Math.min(SAMPLE - 1, c + w)] as number;
  }
  const br = pass(lo, hi);
  const pick = (b: number, r: number): number => {
    const lt = br.lt[b] as number;
    const buf = br.buckets[b] as Float32Array;
    const m = buf.length;
    if (r >= lt && r < lt + m) return selectRank(buf, 0, m - 1, r - lt);
    return selectRank(a.subarray(0, n), 0, n - 1, r);
  };
  return [pick(0, r25), pick(1, r50), pick(2, r75)];
}

/** Arguments of `applyModel` (rows [start, end) of the image). */
export interface ApplyModelArgs {
  readonly img: Float32Array;
  readonly model: Float32Array;
  readonly out: Float32Array;
  readonly width: number;
  /** The column splines (model.ts); per column: segment index and float32 t. */
  readonly splines: ColumnSplines;
  readonly interpolation: InterpStyle;
  readonly start: number;
  readonly end: number;
}

/**
 * model = ((c3 t + c2) t + c1) t + c0 in float32; out = image - model. Row by row: the
 * row's x-interpolant coefficients (model.ts rowCoefficients, float64 then float32, the
 * tables of modelTables), then through the SIMD kernel's memory (wat.ts poly), one call
 * per run of columns of the same segment (seg is non-decreasing in x); a call's last
 * vector may write up to 3 columns into the next run, which that run's call overwrites.
 */
export async function applyModel(a: ApplyModelArgs): Promise<void> {
  const k0 = await kernel();
  const poly = k0.fn<PolyFn>('poly');
  const W = a.width;
  const sp = a.splines;
  const seg = sp.seg;
  const img = a.img;
  const model = a.model;
  const out = a.out;
  const coef = new Float32Array(4 * sp.nseg);
  const vx = new Float64Array(Math.max(1, sp.colX.length));
  const row64 = new Float64Array(4 * sp.nseg);
  // Column ranges of constant segment: [cut[i], cut[i + 1]) uses segment segOf[i].
  const cut: number[] = [0];
  const segOf: number[] = [];
  for (let x = 0; x < W; x++) {
    if (x > 0 && seg[x] !== seg[x - 1]) cut.push(x);
    if (x === 0 || seg[x] !== seg[x - 1]) segOf.push(seg[x] as number);
  }
  cut.push(W);
  const nr = segOf.length;
  const plane = 16 * Math.ceil((4 * W + 16) / 16);
  const T = 0;
  const IMG = plane;
  const MODEL = 2 * plane;
  const OUT = 3 * plane;
  k0.reserve(4 * plane);
  const buf = k0.memory.buffer;
  new Float32Array(buf, T, W).set(sp.t);
  const vImg = new Float32Array(buf, IMG, W);
  const vModel = new Float32Array(buf, MODEL, W);
  const vOut = new Float32Array(buf, OUT, W);
  for (let y = a.start; y < a.end; y++) {
    const row = y * W;
    rowCoefficients(sp, a.interpolation, y, vx, row64, coef, 0);
    vImg.set(img.subarray(row, row + W));
    for (let r = 0; r < nr; r++) {
      const o = 4 * (segOf[r] as number);
      const x0 = cut[r] as number;
      poly(
        T + 4 * x0,
        IMG + 4 * x0,
        MODEL + 4 * x0,
        OUT + 4 * x0,
        (cut[r + 1] as number) - x0,
        coef[o] as number,
        coef[o + 1] as number,
        coef[o + 2] as number,
        coef[o + 3] as number,
      );
    }
    model.set(vModel, row);
    out.set(vOut, row);
  }
}
