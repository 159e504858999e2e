/**
 * Growth of a run-length set by an exact Euclidean disc, on runs (host, CPU backend):
 * a run [x0, x1) on row y grows into [x0 - h(d), x1 + h(d)) on row y +- d for
 * d = 0..r, with h(d) = floor(sqrt(r^2 - d^2)) (the disc's half-width at vertical
 * distance d), clipped to the image; the grown row is the union of those intervals.
 * This is exactly the pixel set of spec.ts step 5 (the union of the discs of the kept
 * pixels), in O(runs x (2r + 1)) rather than O(pixels). The grown runs are then
 * labelled (8-connectivity, union-find over runs, roots the lowest run index).
 */

import type { RasterRuns } from './footprints.ts';
import { RunList } from './run-list.ts';

/** Kept runs in raster order (y ascending, then x0). */
export interface KeptRuns {
  readonly count: number;
  readonly y: Int32Array;
  readonly x0: Int32Array;
  readonly x1: Int32Array;
}

/**
 * Dilate `kept` (raster order) by a disc of `radius` pixels (>= 1) in a width x height
 * image and label the result on output rows [start, end) (default all); runs in raster
 * order, `key` the component's root run (band-local: rows outside the band are not
 * seen, so bands are joined at their seams afterwards).
 */
export function growRuns(
  kept: KeptRuns,
  width: number,
  height: number,
  radius: number,
  start = 0,
  end = height,
): RasterRuns {
  const r = radius;
  const W = width;
  const H = height;
  const half = new Int32Array(r + 1);
  for (let d = 0; d <= r; d++) half[d] = Math.floor(Math.sqrt(r * r - d * d) + 1e-9);
  // Kept runs of row y: [rowStart[y], rowStart[y + 1]).
  const rowStart = new Int32Array(H + 1);
  for (let i = 0; i < kept.count; i++) {
    const y = (kept.y[i] as number) + 1;
    rowStart[y] = (rowStart[y] as number) + 1;
  }
  for (let y = 0; y < H; y++)
    rowStart[y + 1] = (rowStart[y + 1] as number) + (rowStart[y] as number);
  // Output runs; `key` holds each run's union-find parent.
  const out = new RunList();
  const find = (i: number): number => {
    const parent = out.key;
    let x = i;
    while ((parent[x] as number) !== x) {
      const g = parent[parent[x] as number] as number;
      parent[x] = g;
      x = g;
    }
    return x;
  };
  // Interval keys start * (W + 1) + end, sorted numerically = by start, then end.
  let keys = new Float64Array(256);
  const span = W + 1;
  let prevStart = 0;
  let prevEnd = 0;
  let prevY = -2;
  for (let y = start; y < end; y++) {
    const ya = Math.max(0, y - r);
    const yb = Math.min(H - 1, y + r);
    const total = (rowStart[yb + 1] as number) - (rowStart[ya] as number);
    if (total === 0) continue;
    if (keys.length < total) keys = new Float64Array(2 * total);
    let m = 0;
    for (let yy = ya; yy <= yb; yy++) {
      const h = half[yy < y ? y - yy : yy - y] as number;
      for (let i = rowStart[yy] as number; i < (rowStart[yy + 1] as number); i++) {
        const s = Math.max(0, (kept.x0[i] as number) - h);
        const e = Math.min(W, (kept.x1[i] as number) + h);
        keys[m++] = s * span + e;
      }
    }
    const sorted = keys.subarray(0, m).sort();
    const first = out.n;
    let cs = -1;
    let ce = -1;
    for (let i = 0; i <= m; i++) {
      let s = 0;
      let e = 0;
      if (i < m) {
        const k = sorted[i] as number;
        s = Math.floor(k / span);
        e = k - s * span;
        if (cs >= 0 && s <= ce) {
          if (e > ce) ce = e;
          continue;
        }
      }
      if (cs >= 0) {
        out.push(y, cs, ce, out.n);
      }
      cs = s;
      ce = e;
    }
    const last = out.n;
    // 8-connectivity with the previous row's runs.
    if (prevY === y - 1) {
      let i = prevStart;
      for (let j = first; j < last; j++) {
        const c0 = out.x0[j] as number;
        const c1 = out.x1[j] as number;
        while (i < prevEnd && (out.x1[i] as number) < c0) i++;
        for (let k = i; k < prevEnd && (out.x0[k] as number) <= c1; k++) {
          const ra = find(j);
          const rb = find(k);
          if (ra < rb) out.key[rb] = ra;
          else if (rb < ra) out.key[ra] = rb;
        }
      }
    }
    prevStart = first;
    prevEnd = last;
    prevY = y;
  }
  const n = out.n;
  const key = new Int32Array(n);
  for (let i = 0; i < n; i++) key[i] = find(i);
  return { count: n, y: out.y.slice(0, n), x0: out.x0.slice(0, n), x1: out.x1.slice(0, n), key };
}
