/**
 * Simple Imaging Polynomial (SIP) distortion terms (Shupe et al. 2005).
 *
 * With u, v the pixel offsets from CRPIX (pixels), the forward distortion is
 *   u' = u + sum_{p+q <= A_ORDER} A_p_q u^p v^q,   v' = v + sum_{p+q <= B_ORDER} B_p_q u^p v^q
 * and the optional inverse terms AP_p_q, BP_p_q map (u', v') back to approximately
 * (u, v). Coefficients are stored as `c[p][q]` (first index: power of u).
 */

import { WcsError } from './errors.ts';

/** A 2-D polynomial's coefficients: `c[p][q]` multiplies u^p v^q; missing entries are 0. */
export type SipMatrix = ReadonlyArray<ReadonlyArray<number>>;

/** One SIP polynomial: its order (max p+q) and coefficients. */
export interface SipPolynomialSpec {
  /** Maximum total degree p + q (the FITS `A_ORDER`, `B_ORDER`, `AP_ORDER`, `BP_ORDER`). */
  readonly order: number;
  /** Coefficients `c[p][q]` (unitless polynomial in pixels); entries with p + q > order are ignored. */
  readonly coefficients: SipMatrix;
}

/**
 * SIP distortion of a TAN-SIP WCS. `a`, `b` are the forward (pixel -> focal plane)
 * terms; `ap`, `bp` the optional inverse terms (used only as a starting guess; the
 * inverse is always refined with Newton iterations on `a`, `b`).
 */
export interface SipCoefficients {
  readonly a: SipPolynomialSpec;
  readonly b: SipPolynomialSpec;
  readonly ap?: SipPolynomialSpec;
  readonly bp?: SipPolynomialSpec;
}

/** Highest SIP order accepted; real solutions rarely exceed 7 and wcslib allows 9. */
export const MAX_SIP_ORDER = 9;

/**
 * A dense SIP polynomial evaluated with nested Horner schemes (value and both partial
 * derivatives in one pass, no allocation).
 */
export class SipPolynomial {
  /** Maximum total degree. */
  readonly order: number;
  /** Row-major (order+1) x (order+1) coefficients, `c[p * (order + 1) + q]`. */
  private readonly c: Float64Array;

  /** Scratch outputs of {@link evaluateWithDerivatives}: [value, d/du, d/dv]. */
  readonly out = new Float64Array(3);

  constructor(spec: SipPolynomialSpec, key: string) {
    const { order } = spec;
    if (!Number.isInteger(order) || order < 0 || order > MAX_SIP_ORDER) {
      throw new WcsError(
        'WCS_BAD_KEY',
        `SIP ${key}_ORDER must be an integer in 0..${MAX_SIP_ORDER}, got ${order}; fix the header's ${key}_ORDER card`,
        `${key}_ORDER`,
      );
    }
    this.order = order;
    const n = order + 1;
    this.c = new Float64Array(n * n);
    spec.coefficients.forEach((row, p) => {
      row.forEach((value, q) => {
        if (p + q > order || value === 0) return;
        if (!Number.isFinite(value)) {
          throw new WcsError(
            'WCS_BAD_KEY',
            `SIP coefficient ${key}_${p}_${q} is ${value}; it must be a finite number`,
            `${key}_${p}_${q}`,
          );
        }
        this.c[p * n + q] = value;
      });
    });
  }

  /** The coefficient of u^p v^q (0 when beyond the order). */
  coefficient(p: number, q: number): number {
    if (p < 0 || q < 0 || p + q > this.order) return 0;
    return this.c[p * (this.order + 1) + q] ?? 0;
  }

  /** The polynomial's value at (u, v) pixels. */
  evaluate(u: number, v: number): number {
    const n = this.order;
    const c = this.c;
    let f = 0;
    for (let p = n; p >= 0; p--) {
      let pv = 0;
      const row = p * (n + 1);
      for (let q = n - p; q >= 0; q--) pv = pv * v + c[row + q]!;
      f = f * u + pv;
    }
    return f;
  }

  /** Writes [value, d/du, d/dv] at (u, v) into {@link out}. */
  evaluateWithDerivatives(u: number, v: number): Float64Array {
    const n = this.order;
    const c = this.c;
    let f = 0;
    let fu = 0;
    let fv = 0;
    for (let p = n; p >= 0; p--) {
      let pv = 0;
      let pdv = 0;
      const row = p * (n + 1);
      for (let q = n - p; q >= 0; q--) {
        pdv = pdv * v + pv;
        pv = pv * v + c[row + q]!;
      }
      fu = fu * u + f;
      f = f * u + pv;
      fv = fv * u + pdv;
    }
    const out = this.out;
    out[0] = f;
    out[1] = fu;
    out[2] = fv;
    return out;
  }

  /** The non-zero coefficients as (p, q, value), p ascending then q ascending. */
  terms(): Array<{ p: number; q: number; value: number }> {
    const result: Array<{ p: number; q: number; value: number }> = [];
    const n = this.order;
    for (let p = 0; p <= n; p++) {
      for (let q = 0; p + q <= n; q++) {
        const value = this.c[p * (n + 1) + q]!;
        if (value !== 0) result.push({ p, q, value });
      }
    }
    return result;
  }

  /** A plain copy of the coefficients as `c[p][q]`, (order+1) x (order+1). */
  toSpec(): SipPolynomialSpec {
    const n = this.order;
    const coefficients: number[][] = [];
    for (let p = 0; p <= n; p++) {
      const row: number[] = [];
      for (let q = 0; q <= n; q++) row.push(p + q <= n ? this.c[p * (n + 1) + q]! : 0);
      coefficients.push(row);
    }
    return { order: n, coefficients };
  }
}
