/**
 * One-dimensional interpolants of the background mesh, in float64 on the host: Akima
 * splines (GSL's non-periodic `gsl_interp_akima`, afw's AKIMA_SPLINE), natural cubic
 * splines (`gsl_interp_cspline`), linear and constant, with afw's REDUCE_INTERP_ORDER
 * (an interpolant needing more points than there are falls back to the next lower
 * order: Akima needs 5, a cubic spline 3, linear 2, constant 1) and afw's quadratic
 * extrapolation beyond the end knots from the end-point first and second derivatives.
 *
 * Every interpolant is returned as piecewise cubics in local coordinates:
 *   f(x) = c0 + c1 t + c2 t^2 + c3 t^3,  t = x - knot(segment)
 * with n + 1 segments for n knots: segment 0 is the left extrapolation (knot x[0]),
 * segment i in 1..n-1 covers [x[i-1], x[i]) (knot x[i-1]), segment n the right
 * extrapolation (knot x[n-1]).
 */

/** Interpolation styles, highest order first. */
export type InterpStyle = 'akima' | 'cubic' | 'linear' | 'constant';

const MIN_POINTS: Record<InterpStyle, number> = { akima: 5, cubic: 3, linear: 2, constant: 1 };
const LOWER: Record<InterpStyle, InterpStyle | null> = {
  akima: 'cubic',
  cubic: 'linear',
  linear: 'constant',
  constant: null,
};

/** The style actually used for `n` knots when `style` is asked for (REDUCE_INTERP_ORDER). */
export function reducedStyle(style: InterpStyle, n: number): InterpStyle | null {
  let s: InterpStyle | null = style;
  while (s && n < MIN_POINTS[s]) s = LOWER[s];
  return s;
}

/**
 * Piecewise-cubic coefficients (n + 1 segments x 4, see the module comment) of the
 * interpolant of (x[i], y[i]), x strictly increasing, n >= 1, written into `out` at
 * `offset`. Returns the style used.
 */
export function splineSegments(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  style: InterpStyle,
  out: Float64Array | Float32Array,
  offset = 0,
): InterpStyle {
  const n = x.length;
  const used = reducedStyle(style, n);
  if (!used) throw new RangeError('an interpolant needs at least one point');
  // b, c, d per interval (n - 1 intervals): f = y_i + b dx + c dx^2 + d dx^3.
  const b = new Float64Array(Math.max(1, n - 1));
  const c = new Float64Array(Math.max(1, n - 1));
  const d = new Float64Array(Math.max(1, n - 1));
  if (used === 'linear') {
    for (let i = 0; i < n - 1; i++) b[i] = (at(y, i + 1) - at(y, i)) / (at(x, i + 1) - at(x, i));
  } else if (used === 'cubic') {
    naturalCubic(x, y, b, c, d);
  } else if (used === 'akima') {
    akima(x, y, b, c, d);
  }
  const put = (seg: number, c0: number, c1: number, c2: number, c3: number) => {
    const o = offset + 4 * seg;
    out[o] = c0;
    out[o + 1] = c1;
    out[o + 2] = c2;
    out[o + 3] = c3;
  };
  if (used === 'constant' || n === 1) {
    const v = at(y, 0);
    for (let s = 0; s <= n; s++) put(s, v, 0, 0, 0);
    return used;
  }
  for (let i = 0; i < n - 1; i++) put(i + 1, at(y, i), at(b, i), at(c, i), at(d, i));
  // afw Interpolate: quadratic extrapolation from the end points' first and second
  // derivatives (GSL itself refuses to extrapolate).
  put(0, at(y, 0), at(b, 0), at(c, 0), 0);
  const h = at(x, n - 1) - at(x, n - 2);
  const bl = at(b, n - 2);
  const cl = at(c, n - 2);
  const dl = at(d, n - 2);
  const d1 = bl + 2 * cl * h + 3 * dl * h * h;
  const d2 = 2 * cl + 6 * dl * h;
  put(n, at(y, n - 1), d1, 0.5 * d2, 0);
  return used;
}

function at(a: ArrayLike<number>, i: number): number {
  return a[i] as number;
}

/** GSL's natural cubic spline (second derivative 0 at both ends). */
function naturalCubic(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  b: Float64Array,
  c: Float64Array,
  d: Float64Array,
): void {
  const n = x.length;
  // Second derivatives M[i] from the tridiagonal system, M[0] = M[n-1] = 0.
  const m = new Float64Array(n);
  const sys = n - 2;
  if (sys > 0) {
    const diag = new Float64Array(sys);
    const off = new Float64Array(sys);
    const rhs = new Float64Array(sys);
    for (let i = 0; i < sys; i++) {
      const h0 = at(x, i + 1) - at(x, i);
      const h1 = at(x, i + 2) - at(x, i + 1);
      diag[i] = 2 * (h0 + h1);
      off[i] = h1;
      rhs[i] = 6 * ((at(y, i + 2) - at(y, i + 1)) / h1 - (at(y, i + 1) - at(y, i)) / h0);
    }
    // Thomas algorithm (symmetric tridiagonal, diagonally dominant).
    for (let i = 1; i < sys; i++) {
      const w = at(off, i - 1) / at(diag, i - 1);
      diag[i] = at(diag, i) - w * at(off, i - 1);
      rhs[i] = at(rhs, i) - w * at(rhs, i - 1);
    }
    m[sys] = at(rhs, sys - 1) / at(diag, sys - 1);
    for (let i = sys - 2; i >= 0; i--)
      m[i + 1] = (at(rhs, i) - at(off, i) * at(m, i + 2)) / at(diag, i);
  }
  for (let i = 0; i < n - 1; i++) {
    const h = at(x, i + 1) - at(x, i);
    const dy = at(y, i + 1) - at(y, i);
    b[i] = dy / h - (h * (2 * at(m, i) + at(m, i + 1))) / 6;
    c[i] = at(m, i) / 2;
    d[i] = (at(m, i + 1) - at(m, i)) / (6 * h);
  }
}

/** GSL's non-periodic Akima spline (gsl_interp_akima, akima_calc). */
function akima(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  b: Float64Array,
  c: Float64Array,
  d: Float64Array,
): void {
  const n = x.length;
  // Slopes m[-2 .. n], stored at index + 2.
  const mm = new Float64Array(n + 3);
  for (let i = 0; i < n - 1; i++) mm[i + 2] = (at(y, i + 1) - at(y, i)) / (at(x, i + 1) - at(x, i));
  mm[1] = 2 * at(mm, 2) - at(mm, 3);
  mm[0] = 3 * at(mm, 2) - 2 * at(mm, 3);
  mm[n + 1] = 2 * at(mm, n) - at(mm, n - 1);
  mm[n + 2] = 3 * at(mm, n) - 2 * at(mm, n - 1);
  const m = (i: number) => at(mm, i + 2);
  for (let i = 0; i < n - 1; i++) {
    const ne = Math.abs(m(i + 1) - m(i)) + Math.abs(m(i - 1) - m(i - 2));
    if (ne === 0) {
      b[i] = m(i);
      c[i] = 0;
      d[i] = 0;
      continue;
    }
    const h = at(x, i + 1) - at(x, i);
    const neNext = Math.abs(m(i + 2) - m(i + 1)) + Math.abs(m(i) - m(i - 1));
    const alpha = Math.abs(m(i - 1) - m(i - 2)) / ne;
    let tl: number;
    if (neNext === 0) tl = m(i);
    else {
      const a1 = Math.abs(m(i) - m(i - 1)) / neNext;
      tl = (1 - a1) * m(i) + a1 * m(i + 1);
    }
    b[i] = (1 - alpha) * m(i - 1) + alpha * m(i);
    c[i] = (3 * m(i) - 2 * at(b, i) - tl) / h;
    d[i] = (at(b, i) + tl - 2 * m(i)) / (h * h);
  }
}

/** Evaluate segment coefficients (as written by splineSegments) at x, in float64. */
export function evalSegments(
  knots: ArrayLike<number>,
  coef: ArrayLike<number>,
  xv: number,
  offset = 0,
): number {
  const n = knots.length;
  let seg: number;
  let k: number;
  if (n === 1 || xv < at(knots, 0)) {
    seg = 0;
    k = at(knots, 0);
  } else if (xv >= at(knots, n - 1)) {
    seg = n;
    k = at(knots, n - 1);
  } else {
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (at(knots, mid) <= xv) lo = mid;
      else hi = mid;
    }
    seg = lo + 1;
    k = at(knots, lo);
  }
  const t = xv - k;
  const o = offset + 4 * seg;
  return at(coef, o) + t * (at(coef, o + 1) + t * (at(coef, o + 2) + t * at(coef, o + 3)));
}

/**
 * Per-column segment index and local coordinate for pixels x = 0..width-1 against
 * `knots` (as evalSegments chooses them); t in float32 (what the kernels use).
 */
export function columnSegments(
  knots: ArrayLike<number>,
  width: number,
): { seg: Int32Array; t: Float32Array } {
  const n = knots.length;
  const seg = new Int32Array(width);
  const t = new Float32Array(width);
  let lo = 0;
  for (let x = 0; x < width; x++) {
    if (n === 1 || x < at(knots, 0)) {
      seg[x] = 0;
      t[x] = x - at(knots, 0);
      continue;
    }
    if (x >= at(knots, n - 1)) {
      seg[x] = n;
      t[x] = x - at(knots, n - 1);
      continue;
    }
    while (lo + 1 < n - 1 && at(knots, lo + 1) <= x) lo++;
    seg[x] = lo + 1;
    t[x] = x - at(knots, lo);
  }
  return { seg, t };
}
