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

/**
 * The y interpolants of the bin columns that have a non-empty bin (host part of the
 * model): column i's knots are ky[kOff[i] .. kOff[i + 1]) and its segment coefficients
 * coefY[4 kOff[i] + 4 i ..] (knots + 1 segments x 4); colX its centre.
 */
export interface ColumnSplines {
  readonly colX: Float64Array;
  readonly kOff: Int32Array;
  readonly ky: Float64Array;
  readonly coefY: Float64Array;
  readonly styleY: InterpStyle | null;
  /** Style of the per-row x interpolants (null without any column). */
  readonly styleX: InterpStyle | null;
  readonly nseg: number;
  /** Per pixel column: segment index and float32 local coordinate t. */
  readonly seg: Int32Array;
  readonly t: Float32Array;
}

/** The y interpolant of every non-empty bin column (host, float64). */
export function columnSplines(p: PreparedBackground, values: Float32Array): ColumnSplines {
  const { nx, ny, width: W } = p;
  const centre = (e: Int32Array, i: number) => ((e[i] as number) + (e[i + 1] as number) - 1) / 2;
  const colX: number[] = [];
  const kOff: number[] = [0];
  const kyAll: number[] = [];
  const coefs: Float64Array[] = [];
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
    colX.push(centre(p.binX, ix));
    for (const k of ky) kyAll.push(k);
    kOff.push(kyAll.length);
    coefs.push(coef);
  }
  const coefY = new Float64Array(4 * (kyAll.length + colX.length));
  let o = 0;
  for (const c of coefs) {
    coefY.set(c, o);
    o += c.length;
  }
  const nseg = Math.max(1, colX.length) + 1;
  const { seg, t } = columnSegments(colX.length === 0 ? [0] : colX, W);
  return {
    colX: Float64Array.from(colX),
    kOff: Int32Array.from(kOff),
    ky: Float64Array.from(kyAll),
    coefY,
    styleY: colX.length === 0 ? null : styleY,
    styleX: colX.length === 0 ? null : reducedStyle(p.interpolation, colX.length),
    nseg,
    seg,
    t,
  };
}

/**
 * Row y's x-interpolant coefficients (nseg x 4, float32 in `out` at `offset`) from the
 * column splines: each column's y interpolant evaluated at y (float64), then the x
 * interpolant through them. All zero without any column.
 */
export function rowCoefficients(
  c: ColumnSplines,
  style: InterpStyle,
  y: number,
  vx: Float64Array,
  row64: Float64Array,
  out: Float32Array,
  offset: number,
): void {
  const nk = c.colX.length;
  if (nk === 0) {
    out.fill(0, offset, offset + 4 * c.nseg);
    return;
  }
  for (let i = 0; i < nk; i++) {
    const k0 = c.kOff[i] as number;
    const k1 = c.kOff[i + 1] as number;
    vx[i] = evalSegments(c.ky.subarray(k0, k1), c.coefY, y, 4 * (k0 + i));
  }
  splineSegments(c.colX, vx.subarray(0, nk), style, row64);
  for (let j = 0; j < 4 * c.nseg; j++) out[offset + j] = row64[j] as number;
}

/** Build the tables from the bin values (NaN = empty bin). */
export function modelTables(p: PreparedBackground, values: Float32Array): ModelTables {
  const c = columnSplines(p, values);
  const { nseg, seg, t } = c;
  const H = p.height;
  const coef = new Float32Array(H * nseg * 4);
  if (c.colX.length > 0) {
    const vx = new Float64Array(c.colX.length);
    const row64 = new Float64Array(nseg * 4);
    for (let y = 0; y < H; y++)
      rowCoefficients(c, p.interpolation, y, vx, row64, coef, y * nseg * 4);
  }
  return { nseg, coef, seg, t, styleX: c.styleX, styleY: c.styleY };
}
