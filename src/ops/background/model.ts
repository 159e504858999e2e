/**
 * From mesh values to per-pixel model tables (host, float64, then float32 tables): the
 * y interpolation per bin column, then per-row x interpolants stored as float32
 * piecewise cubics (spec.ts). Both backends evaluate the same tables.
 */
import {
  columnSegments,
  evalSegments,
  type InterpStyle,
  reducedStyle,
  splineSegments,
} from './interpolate.ts';
import type { PreparedBackground } from './spec.ts';

/** Per-pixel evaluation tables of a background model. */
export interface ModelTables {
  /** Segments per row (x knots + 1). */
  readonly nseg: number;
  /** height x nseg x 4 float32 coefficients. */
  readonly coef: Float32Array;
  /** Per column: segment index and float32 local coordinate t. */
  readonly seg: Int32Array;
  readonly t: Float32Array;
  readonly styleX: InterpStyle | null;
  readonly styleY: InterpStyle | null;
}

const RANK: Record<InterpStyle, number> = { constant: 0, linear: 1, cubic: 2, akima: 3 };

/** Build the tables from the bin values (NaN = empty bin). */
export function modelTables(p: PreparedBackground, values: Float32Array): ModelTables {
  const { nx, ny, width: W, height: H } = p;
  const centre = (e: Int32Array, i: number) => ((e[i] as number) + (e[i + 1] as number) - 1) / 2;
  const colX: number[] = [];
  const colVals: Float64Array[] = [];
  let styleY: InterpStyle | null = null;
  const ky: number[] = [];
  const vy: number[] = [];
  for (let ix = 0; ix < nx; ix++) {
    ky.length = 0;
    vy.length = 0;
    for (let iy = 0; iy < ny; iy++) {
      const v = values[iy * nx + ix] as number;
      if (!Number.isNaN(v)) {
        ky.push(centre(p.binY, iy));
        vy.push(v);
      }
    }
    if (ky.length === 0) continue;
    const coef = new Float64Array(4 * (ky.length + 1));
    const used = splineSegments(ky, vy, p.interpolation, coef);
    if (styleY === null || RANK[used] > RANK[styleY]) styleY = used;
    const col = new Float64Array(H);
    for (let y = 0; y < H; y++) col[y] = evalSegments(ky, coef, y);
    colX.push(centre(p.binX, ix));
    colVals.push(col);
  }
  const nk = Math.max(1, colX.length);
  const nseg = nk + 1;
  const coef = new Float32Array(H * nseg * 4);
  if (colX.length === 0) {
    // No good pixel anywhere: a zero model.
    const { seg, t } = columnSegments([0], W);
    return { nseg, coef, seg, t, styleX: null, styleY: null };
  }
  const styleX = reducedStyle(p.interpolation, colX.length);
  const row64 = new Float64Array(nseg * 4);
  const vx = new Float64Array(colX.length);
  for (let y = 0; y < H; y++) {
    for (let i = 0; i < colX.length; i++) vx[i] = (colVals[i] as Float64Array)[y] as number;
    splineSegments(colX, vx, p.interpolation, row64);
    coef.set(row64, y * nseg * 4);
  }
  const { seg, t } = columnSegments(colX, W);
  return { nseg, coef, seg, t, styleX, styleY };
}
