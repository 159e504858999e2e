/**
 * Footprint sets: the common representation both backends produce, and its assembly from
 * raster-ordered runs and peak pixels (so the canonical numbering and peak order are one
 * piece of code).
 *
 * Coordinates are 0-based and local to the image (pixel (x, y) is data[y * width + x]);
 * add `xy0` for parent coordinates. Spans are half-open [x0, x1) on row y.
 */
import type { Point2I } from '../../geom/box.ts';

/** Footprints of one polarity, struct-of-arrays. */
export interface FootprintSet {
  readonly polarity: 'positive' | 'negative';
  readonly width: number;
  readonly height: number;
  readonly xy0: Point2I;
  /** Number of footprints. */
  readonly count: number;
  /** Spans of all footprints, grouped by footprint (in id order), each in raster order. */
  readonly spanY: Int32Array;
  readonly spanX0: Int32Array;
  readonly spanX1: Int32Array;
  /** Footprint i owns spans [spanStart[i], spanStart[i + 1]). */
  readonly spanStart: Int32Array;
  /** Per footprint: pixel count and inclusive bounding box (local pixels). */
  readonly area: Int32Array;
  readonly bboxX0: Int32Array;
  readonly bboxY0: Int32Array;
  readonly bboxX1: Int32Array;
  readonly bboxY1: Int32Array;
  /** Footprint i owns peaks [peakStart[i], peakStart[i + 1]), brightest first. */
  readonly peakStart: Int32Array;
  /** Per footprint: 1 when its peak list was cut at maxPeaksPerFootprint. */
  readonly peaksTruncated: Uint8Array;
  /** Peaks: local pixel, smoothed value (image units, sign as measured) and S/N. */
  readonly peakX: Int32Array;
  readonly peakY: Int32Array;
  readonly peakValue: Float32Array;
  readonly peakSignificance: Float32Array;
  /** Peaks lost to the maxPeaks cap before assignment (0 normally). */
  readonly peaksDropped: number;
}

/** Raster-ordered runs with a component key per run (any integer naming the component). */
export interface RasterRuns {
  readonly count: number;
  readonly y: Int32Array;
  readonly x0: Int32Array;
  readonly x1: Int32Array;
  readonly key: Int32Array;
}

/** Inputs of `assembleFootprints`. */
export interface AssembleInput {
  readonly polarity: 'positive' | 'negative';
  readonly width: number;
  readonly height: number;
  readonly xy0: Point2I;
  /** Grown footprints' runs, raster order (y, then x0). */
  readonly runs: RasterRuns;
  /** Peak pixel indices (any order, duplicates not allowed). */
  readonly peaks: Int32Array;
  readonly peaksDropped: number;
  /** Smoothed image and variance (for peak values and S/N). */
  readonly smoothed: Float32Array;
  readonly smoothedVariance: Float32Array;
  readonly maxPeaksPerFootprint: number;
}

/** Number the components by first appearance and group spans and peaks per footprint. */
export function assembleFootprints(a: AssembleInput): FootprintSet {
  const { runs, width: W } = a;
  const nr = runs.count;
  // Component keys -> ids in order of first appearance (= lowest pixel index); keys that
  // are run indices (the CPU labeller's roots) use an array, others a Map.
  const runFp = new Int32Array(nr);
  let small = true;
  for (let i = 0; i < nr && small; i++) {
    const k = runs.key[i] as number;
    if (!(k >= 0 && k < nr)) small = false;
  }
  let n = 0;
  if (small) {
    const idAt = new Int32Array(nr).fill(-1);
    for (let i = 0; i < nr; i++) {
      const k = runs.key[i] as number;
      let id = idAt[k] as number;
      if (id < 0) {
        id = n++;
        idAt[k] = id;
      }
      runFp[i] = id;
    }
  } else {
    const idOf = new Map<number, number>();
    for (let i = 0; i < nr; i++) {
      const k = runs.key[i] as number;
      let id = idOf.get(k);
      if (id === undefined) {
        id = idOf.size;
        idOf.set(k, id);
      }
      runFp[i] = id;
    }
    n = idOf.size;
  }
  const spanStart = new Int32Array(n + 1);
  for (let i = 0; i < nr; i++) {
    const f = (runFp[i] as number) + 1;
    spanStart[f] = (spanStart[f] as number) + 1;
  }
  for (let i = 0; i < n; i++)
    spanStart[i + 1] = (spanStart[i + 1] as number) + (spanStart[i] as number);
  const fill = spanStart.slice(0, n);
  const spanY = new Int32Array(nr);
  const spanX0 = new Int32Array(nr);
  const spanX1 = new Int32Array(nr);
  const area = new Int32Array(n);
  const bboxX0 = new Int32Array(n).fill(0x7fffffff);
  const bboxY0 = new Int32Array(n).fill(0x7fffffff);
  const bboxX1 = new Int32Array(n).fill(-1);
  const bboxY1 = new Int32Array(n).fill(-1);
  for (let i = 0; i < nr; i++) {
    const f = runFp[i] as number;
    const o = fill[f] as number;
    fill[f] = o + 1;
    const y = runs.y[i] as number;
    const x0 = runs.x0[i] as number;
    const x1 = runs.x1[i] as number;
    spanY[o] = y;
    spanX0[o] = x0;
    spanX1[o] = x1;
    area[f] = (area[f] as number) + (x1 - x0);
    if (x0 < (bboxX0[f] as number)) bboxX0[f] = x0;
    if (x1 - 1 > (bboxX1[f] as number)) bboxX1[f] = x1 - 1;
    if (y < (bboxY0[f] as number)) bboxY0[f] = y;
    if (y > (bboxY1[f] as number)) bboxY1[f] = y;
  }
  // Peaks -> footprint through the runs of their row (binary search).
  const rowStart = new Int32Array(a.height + 1);
  for (let i = 0; i < nr; i++) {
    const r = (runs.y[i] as number) + 1;
    rowStart[r] = (rowStart[r] as number) + 1;
  }
  for (let y = 0; y < a.height; y++)
    rowStart[y + 1] = (rowStart[y + 1] as number) + (rowStart[y] as number);
  const sign = a.polarity === 'positive' ? 1 : -1;
  const byFp: number[][] = Array.from({ length: n }, () => []);
  for (const p of a.peaks) {
    const y = Math.floor(p / W);
    const x = p - y * W;
    let lo = rowStart[y] as number;
    let hi = (rowStart[y + 1] as number) - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((runs.x1[mid] as number) <= x) lo = mid + 1;
      else if ((runs.x0[mid] as number) > x) hi = mid - 1;
      else {
        found = mid;
        break;
      }
    }
    // Every peak lies in a kept component, hence in a grown footprint.
    if (found >= 0) (byFp[runFp[found] as number] as number[]).push(p);
  }
  const peakStart = new Int32Array(n + 1);
  const truncated = new Uint8Array(n);
  const px: number[] = [];
  for (let f = 0; f < n; f++) {
    const list = byFp[f] as number[];
    list.sort((p, q) => {
      const d = sign * ((a.smoothed[q] as number) - (a.smoothed[p] as number));
      return d !== 0 ? d : p - q;
    });
    if (list.length > a.maxPeaksPerFootprint) {
      list.length = a.maxPeaksPerFootprint;
      truncated[f] = 1;
    }
    for (const p of list) px.push(p);
    peakStart[f + 1] = px.length;
  }
  const np = px.length;
  const peakX = new Int32Array(np);
  const peakY = new Int32Array(np);
  const peakValue = new Float32Array(np);
  const peakSignificance = new Float32Array(np);
  for (let i = 0; i < np; i++) {
    const p = px[i] as number;
    const y = Math.floor(p / W);
    peakY[i] = y;
    peakX[i] = p - y * W;
    const v = a.smoothed[p] as number;
    peakValue[i] = v;
    peakSignificance[i] = (sign * v) / Math.sqrt(a.smoothedVariance[p] as number);
  }
  return {
    polarity: a.polarity,
    width: a.width,
    height: a.height,
    xy0: a.xy0,
    count: n,
    spanY,
    spanX0,
    spanX1,
    spanStart,
    area,
    bboxX0,
    bboxY0,
    bboxX1,
    bboxY1,
    peakStart,
    peaksTruncated: truncated,
    peakX,
    peakY,
    peakValue,
    peakSignificance,
    peaksDropped: a.peaksDropped,
  };
}

/** A label image of a footprint set: footprint id + 1 at its pixels, 0 elsewhere. */
export function footprintLabels(set: FootprintSet): Int32Array {
  const out = new Int32Array(set.width * set.height);
  for (let f = 0; f < set.count; f++) {
    for (let s = set.spanStart[f] as number; s < (set.spanStart[f + 1] as number); s++) {
      const row = (set.spanY[s] as number) * set.width;
      out.fill(f + 1, row + (set.spanX0[s] as number), row + (set.spanX1[s] as number));
    }
  }
  return out;
}

/** OR `bits` into `mask` over every footprint pixel of `set`. */
export function setFootprintBits(set: FootprintSet, mask: Int32Array, bits: number): void {
  const n = set.spanY.length;
  for (let s = 0; s < n; s++) {
    const row = (set.spanY[s] as number) * set.width;
    for (let p = row + (set.spanX0[s] as number); p < row + (set.spanX1[s] as number); p++)
      mask[p] = (mask[p] as number) | bits;
  }
}
