/**
 * Row-band kernel of `detect` for the CPU backend: a run-based two-pass labeller. Each
 * band extracts the runs of its above-threshold rows and unites the runs of
 * consecutive rows (8-connectivity) in a union-find over run indices whose roots are the
 * lowest run index (= lowest pixel index); the host joins the bands at their seams.
 * The threshold test is the float32 one of spec.ts and shaders/detect.wgsl.
 */

import { growRuns } from './grow-runs.ts';

const fround = Math.fround;

/** Runs of one band, raster order, with the band-local union-find root of each. */
export interface BandRuns {
  /** y, x0, x1 per run (x1 exclusive). */
  readonly runs: Int32Array;
  /** Band-local root run index of each run. */
  readonly root: Int32Array;
  /** Peak pixel indices (threshold mode) and the band-local run holding each. */
  readonly peaks: Int32Array;
  readonly peakRuns: Int32Array;
}

class RunBuilder {
  runs = new Int32Array(3 * 1024);
  parent = new Int32Array(1024);
  n = 0;
  private prevStart = 0;
  private prevEnd = 0;

  find(i: number): number {
    const p = this.parent;
    let x = i;
    while ((p[x] as number) !== x) {
      const g = p[p[x] as number] as number;
      p[x] = g;
      x = g;
    }
    return x;
  }

  private unite(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }

  private push(y: number, x0: number, x1: number): void {
    if (this.n === this.parent.length) {
      const r = new Int32Array(this.runs.length * 2);
      r.set(this.runs);
      this.runs = r;
      const p = new Int32Array(this.parent.length * 2);
      p.set(this.parent);
      this.parent = p;
    }
    const o = 3 * this.n;
    this.runs[o] = y;
    this.runs[o + 1] = x0;
    this.runs[o + 2] = x1;
    this.parent[this.n] = this.n;
    this.n++;
  }

  /** Add row y from a 0/1 row mask; unites with the previous row when it was y - 1. */
  addRow(y: number, row: Uint8Array, width: number, joinPrevious: boolean): void {
    const start = this.n;
    let x = 0;
    while (x < width) {
      if (row[x] === 0) {
        x++;
        continue;
      }
      const x0 = x;
      while (x < width && row[x] !== 0) x++;
      this.push(y, x0, x);
    }
    const end = this.n;
    if (joinPrevious) {
      let i = this.prevStart;
      const runs = this.runs;
      for (let j = start; j < end; j++) {
        const c0 = runs[3 * j + 1] as number;
        const c1 = runs[3 * j + 2] as number;
        while (i < this.prevEnd && (runs[3 * i + 2] as number) < c0) i++;
        for (let k = i; k < this.prevEnd && (runs[3 * k + 1] as number) <= c1; k++)
          this.unite(j, k);
      }
    }
    this.prevStart = start;
    this.prevEnd = end;
  }

  roots(): Int32Array {
    const out = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.find(i);
    return out;
  }
}

/** Arguments of `thresholdBand`. */
export interface ThresholdBandArgs {
  readonly img: Float32Array;
  readonly vr: Float32Array;
  readonly width: number;
  readonly height: number;
  readonly threshold: number;
  readonly sign: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Above-threshold flags of row y (spec.ts step 2) into `row`: a pixel is above when
 * v = s image' is finite, variance' is finite and > 0, and v >= float32(thr *
 * float32(sqrt(variance'))). Non-positive v never is (the bound is > 0); a float64
 * pre-test v^2 < 0.999 thr^2 variance' (far from float32 rounding) skips the square root
 * for pixels clearly below.
 */
function thresholdRow(
  img: Float32Array,
  vr: Float32Array,
  W: number,
  y: number,
  sign: number,
  thr: number,
  row: Uint8Array,
): void {
  const base = y * W;
  const thr2 = 0.999 * thr * thr;
  for (let x = 0; x < W; x++) {
    const v = sign * (img[base + x] as number);
    let f = 0;
    if (v > 0) {
      const s = vr[base + x] as number;
      if (s > 0 && s - s === 0 && v - v === 0 && v * v >= thr2 * s) {
        if (v >= fround(thr * fround(Math.sqrt(s)))) f = 1;
      }
    }
    row[x] = f;
  }
}

/** Runs of the above-threshold pixels of rows [start, end), their unions and peaks. */
export function thresholdBand(a: ThresholdBandArgs): BandRuns {
  const img = a.img;
  const vr = a.vr;
  const W = a.width;
  const H = a.height;
  const sign = a.sign;
  const thr = fround(a.threshold);
  const b = new RunBuilder();
  // Flags of rows y - 1, y, y + 1 (all 0 off the image).
  let prev = new Uint8Array(W);
  let cur = new Uint8Array(W);
  let next = new Uint8Array(W);
  if (a.start > 0) thresholdRow(img, vr, W, a.start - 1, sign, thr, prev);
  if (a.start < H) thresholdRow(img, vr, W, a.start, sign, thr, cur);
  const peaks: number[] = [];
  const peakRuns: number[] = [];
  for (let y = a.start; y < a.end; y++) {
    const base = y * W;
    if (y + 1 < H) thresholdRow(img, vr, W, y + 1, sign, thr, next);
    else next.fill(0);
    const first = b.n;
    b.addRow(y, cur, W, y > a.start);
    for (let r = first; r < b.n; r++) {
      const x0 = b.runs[3 * r + 1] as number;
      const x1 = b.runs[3 * r + 2] as number;
      for (let x = x0; x < x1; x++) {
        const p = base + x;
        const vp = sign * (img[p] as number);
        let peak = true;
        for (let dy = -1; dy <= 1 && peak; dy++) {
          const flags = dy < 0 ? prev : dy > 0 ? next : cur;
          const qb = p + dy * W;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if ((dx === 0 && dy === 0) || xx < 0 || xx >= W || flags[xx] === 0) continue;
            const q = qb + dx;
            const vq = sign * (img[q] as number);
            if (vq > vp || (vq === vp && q < p)) {
              peak = false;
              break;
            }
          }
        }
        if (peak) {
          peaks.push(p);
          peakRuns.push(r);
        }
      }
    }
    const t = prev;
    prev = cur;
    cur = next;
    next = t;
  }
  return {
    runs: b.runs.slice(0, 3 * b.n),
    root: b.roots(),
    peaks: Int32Array.from(peaks),
    peakRuns: Int32Array.from(peakRuns),
  };
}

/** Arguments of `nonFiniteBand` (rows [start, end)). */
export interface NonFiniteBandArgs {
  readonly img: Float32Array;
  readonly vr: Float32Array;
  readonly width: number;
  readonly start: number;
  readonly end: number;
}

/** Indices of the pixels of rows [start, end) whose image or variance is not finite. */
export function nonFiniteBand(a: NonFiniteBandArgs): Int32Array {
  const img = a.img;
  const vr = a.vr;
  const out: number[] = [];
  const e = a.end * a.width;
  for (let i = a.start * a.width; i < e; i++) {
    const v = img[i] as number;
    const s = vr[i] as number;
    if (v - v !== 0 || s - s !== 0) out.push(i);
  }
  return Int32Array.from(out);
}

/** Arguments of `edgeMaskBand` (rows [start, end)). */
export interface EdgeMaskBandArgs {
  readonly src: Int32Array;
  readonly dst: Int32Array;
  readonly width: number;
  readonly height: number;
  /** Border width, pixels (half the smoothing kernel). */
  readonly border: number;
  readonly edgeBits: number;
  /** Raster-ordered runs whose pixels get `bits` (footprints of each polarity). */
  readonly marks: ReadonlyArray<{
    readonly y: Int32Array;
    readonly x0: Int32Array;
    readonly x1: Int32Array;
    readonly bits: number;
  }>;
  readonly start: number;
  readonly end: number;
}

/**
 * dst = src with `edgeBits` OR-ed on the border of width `border` and each mark's bits
 * on its runs (rows [start, end)).
 */
export function edgeMaskBand(a: EdgeMaskBandArgs): void {
  edgeRows(a);
  for (const m of a.marks) {
    const { y: ys, x0: xs0, x1: xs1, bits } = m;
    const n = ys.length;
    // First run on row >= start (raster order).
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ys[mid] as number) < a.start) lo = mid + 1;
      else hi = mid;
    }
    const dst = a.dst;
    for (let i = lo; i < n && (ys[i] as number) < a.end; i++) {
      const row = (ys[i] as number) * a.width;
      const e = row + (xs1[i] as number);
      for (let p = row + (xs0[i] as number); p < e; p++) dst[p] = (dst[p] as number) | bits;
    }
  }
}

function edgeRows(a: EdgeMaskBandArgs): void {
  const { src, dst, width: W, height: H, border: r, edgeBits } = a;
  for (let y = a.start; y < a.end; y++) {
    const row = y * W;
    if (y < r || y >= H - r) {
      for (let x = 0; x < W; x++) dst[row + x] = (src[row + x] as number) | edgeBits;
      continue;
    }
    dst.set(src.subarray(row, row + W), row);
    for (let x = 0; x < Math.min(r, W); x++) dst[row + x] = (src[row + x] as number) | edgeBits;
    for (let x = Math.max(0, W - r); x < W; x++) dst[row + x] = (src[row + x] as number) | edgeBits;
  }
}

/** Arguments of `growRunsBand`: the kept runs (raster order) and output rows [start, end). */
export interface GrowRunsBandArgs {
  readonly count: number;
  readonly y: Int32Array;
  readonly x0: Int32Array;
  readonly x1: Int32Array;
  readonly width: number;
  readonly height: number;
  readonly radius: number;
  readonly start: number;
  readonly end: number;
}

/** The kept runs grown by the disc (grow-runs.ts) on rows [start, end), band-labelled. */
export function growRunsBand(a: GrowRunsBandArgs): BandRuns {
  const g = growRuns(a, a.width, a.height, a.radius, a.start, a.end);
  const runs = new Int32Array(3 * g.count);
  for (let i = 0; i < g.count; i++) {
    runs[3 * i] = g.y[i] as number;
    runs[3 * i + 1] = g.x0[i] as number;
    runs[3 * i + 2] = g.x1[i] as number;
  }
  return { runs, root: g.key, peaks: new Int32Array(0), peakRuns: new Int32Array(0) };
}
