/**
 * TAN-SIP -> TAN with TPV polynomial terms (PV1_k, PV2_k), for the astromatic tools.
 *
 * SWarp 2.41 and Source Extractor 2.25 do not read SIP (A_p_q, B_p_q): they would treat
 * our calexps' `RA---TAN-SIP` as plain TAN and misplace pixels by the distortion (up to
 * a few pixels at the corners of the `medium` focal plane). They read the TPV convention
 * instead: with (xi, eta) = CD (p - CRPIX) in degrees, the distorted intermediate world
 * coordinates are
 *   xi'  = sum_k PV1_k T_k(xi, eta),   eta' = sum_k PV2_k T_k(eta, xi)
 * (note the swapped arguments on axis 2), where T_k runs over the monomials by total
 * degree d = 0..7: x^d, x^(d-1) y, ..., y^d, and for odd d also r^d (r = sqrt(x^2 + y^2);
 * never used here). TAN deprojection of (xi', eta') gives the sky.
 *
 * SIP applies its polynomial in pixel space before CD: xi' = CD (u + A(u, v), v + B(u, v))
 * with (u, v) = CD^-1 (xi, eta). For a SIP polynomial of order n that is exactly a
 * polynomial of degree n in (xi, eta), so a least-squares fit of the TPV monomials up to
 * degree n on a grid of points reproduces it to rounding (checked, in pixels, on the
 * fitting grid and on points between it).
 */
import type { Box2I } from '../../src/geom/box.ts';
import type { FitsCardSpec } from '../../src/geom/fits-header.ts';
import { SipPolynomial } from '../../src/geom/sip.ts';
import type { Wcs } from '../../src/geom/wcs.ts';
import { E2eError } from './errors.ts';

/** Highest total degree the TPV convention has. */
export const TPV_MAX_DEGREE = 7;

/** One TPV monomial: PVi_k multiplies first^p * second^q (first = xi on axis 1, eta on axis 2). */
interface TpvTerm {
  readonly k: number;
  readonly p: number;
  readonly q: number;
}

/** The TPV monomials (r terms left out) up to `degree`, with their PV index k. */
export function tpvTerms(degree: number): TpvTerm[] {
  const out: TpvTerm[] = [];
  let k = 0;
  for (let d = 0; d <= degree; d++) {
    for (let j = 0; j <= d; j++) out.push({ k: k++, p: d - j, q: j });
    if (d % 2 === 1) k++; // the r^d term
  }
  return out;
}

/** What {@link sipToTpv} gives. */
export interface TpvConversion {
  /**
   * WCS cards for a TAN header with TPV terms: CTYPE1/2 (RA---TAN, DEC--TAN), CUNIT,
   * CRPIX (1-based), CRVAL, CD, LONPOLE, RADESYS, EQUINOX, PV1_k, PV2_k.
   */
  readonly cards: FitsCardSpec[];
  /** Largest position difference between the SIP and TPV mappings on the check points, pixels. */
  readonly maxErrorPixels: number;
}

/**
 * The TPV equivalent of `wcs` over `bbox` (0-based pixels of the image the WCS belongs
 * to). A WCS without SIP gives its TAN cards with PV1_1 = PV2_1 = 1 and no error.
 *
 * @throws E2eError E2E_BAD_WCS when the SIP order exceeds 7 or the fit misses by more
 *   than 1e-4 pixel.
 */
export function sipToTpv(wcs: Wcs, bbox: Box2I): TpvConversion {
  const sip = wcs.sip;
  const base = wcs.toFitsCards().filter((c) => !/^(A|B|AP|BP)_/.test(c.key));
  for (const c of base) {
    if (c.key === 'CTYPE1') c.value = 'RA---TAN';
    if (c.key === 'CTYPE2') c.value = 'DEC--TAN';
  }
  if (!sip) {
    return {
      cards: [
        ...base,
        { key: 'PV1_1', value: 1, comment: 'TPV: xi term' },
        { key: 'PV2_1', value: 1, comment: 'TPV: eta term' },
      ],
      maxErrorPixels: 0,
    };
  }
  const degree = Math.max(sip.a.order, sip.b.order, 1);
  if (degree > TPV_MAX_DEGREE) {
    throw new E2eError(
      'E2E_BAD_WCS',
      `SIP order ${degree} has no exact TPV equivalent (TPV stops at degree ${TPV_MAX_DEGREE}); refit the calexp WCS with SIP order <= 7`,
    );
  }
  const a = new SipPolynomial(sip.a, 'A');
  const b = new SipPolynomial(sip.b, 'B');
  const [[c11, c12], [c21, c22]] = wcs.cd;
  const [x0, y0] = wcs.crpix;
  // Sample the image (grown by 10%) in pixel offsets from CRPIX.
  const grow = 0.1 * Math.max(bbox.width, bbox.height);
  const n = 4 * (degree + 1);
  const us: number[] = [];
  const vs: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      us.push(bbox.minX - grow + ((bbox.width + 2 * grow) * i) / (n - 1) - x0);
      vs.push(bbox.minY - grow + ((bbox.height + 2 * grow) * j) / (n - 1) - y0);
    }
  }
  const m = us.length;
  const xi = new Float64Array(m);
  const eta = new Float64Array(m);
  const xiD = new Float64Array(m);
  const etaD = new Float64Array(m);
  let scale = 0;
  for (let s = 0; s < m; s++) {
    const u = us[s]!;
    const v = vs[s]!;
    const ud = u + a.evaluate(u, v);
    const vd = v + b.evaluate(u, v);
    xi[s] = c11 * u + c12 * v;
    eta[s] = c21 * u + c22 * v;
    xiD[s] = c11 * ud + c12 * vd;
    etaD[s] = c21 * ud + c22 * vd;
    scale = Math.max(scale, Math.abs(xi[s]!), Math.abs(eta[s]!));
  }
  const terms = tpvTerms(degree);
  // Normalized coordinates keep the normal equations well conditioned.
  const pv1 = fitAxis(terms, xi, eta, xiD, scale);
  const pv2 = fitAxis(terms, eta, xi, etaD, scale);
  const tpv = (x: number, y: number, coeffs: Float64Array) => {
    let f = 0;
    terms.forEach((t, i) => {
      f += coeffs[i]! * x ** t.p * y ** t.q;
    });
    return f;
  };
  // Check in pixels, on the grid and between its points.
  const det = c11 * c22 - c12 * c21;
  let maxErr = 0;
  for (let j = 0; j < 2 * n - 1; j++) {
    for (let i = 0; i < 2 * n - 1; i++) {
      const u = bbox.minX + (bbox.width * i) / (2 * n - 2) - x0;
      const v = bbox.minY + (bbox.height * j) / (2 * n - 2) - y0;
      const x = c11 * u + c12 * v;
      const y = c21 * u + c22 * v;
      const dx = tpv(x, y, pv1) - (c11 * (u + a.evaluate(u, v)) + c12 * (v + b.evaluate(u, v)));
      const dy = tpv(y, x, pv2) - (c21 * (u + a.evaluate(u, v)) + c22 * (v + b.evaluate(u, v)));
      // Back to pixels through CD^-1.
      const pu = (c22 * dx - c12 * dy) / det;
      const pv = (-c21 * dx + c11 * dy) / det;
      maxErr = Math.max(maxErr, Math.hypot(pu, pv));
    }
  }
  if (!(maxErr < 1e-4)) {
    throw new E2eError(
      'E2E_BAD_WCS',
      `the TPV fit of the SIP distortion misses by ${maxErr.toExponential(2)} pixel (> 1e-4); the WCS is not usable for SWarp`,
    );
  }
  const cards: FitsCardSpec[] = [...base];
  terms.forEach((t, i) => {
    cards.push({ key: `PV1_${t.k}`, value: pv1[i]! });
  });
  terms.forEach((t, i) => {
    cards.push({ key: `PV2_${t.k}`, value: pv2[i]! });
  });
  return { cards, maxErrorPixels: maxErr };
}

/**
 * Least-squares coefficients of `target` over the monomials `terms` of (x, y), with x and
 * y divided by `scale` during the solve (coefficients returned for the unscaled ones).
 */
function fitAxis(
  terms: readonly TpvTerm[],
  x: Float64Array,
  y: Float64Array,
  target: Float64Array,
  scale: number,
): Float64Array {
  const nt = terms.length;
  const ata = new Float64Array(nt * nt);
  const atb = new Float64Array(nt);
  const row = new Float64Array(nt);
  for (let s = 0; s < x.length; s++) {
    const xs = x[s]! / scale;
    const ys = y[s]! / scale;
    for (let i = 0; i < nt; i++) row[i] = xs ** terms[i]!.p * ys ** terms[i]!.q;
    const t = target[s]! / scale;
    for (let i = 0; i < nt; i++) {
      atb[i] = atb[i]! + row[i]! * t;
      for (let j = 0; j < nt; j++) ata[i * nt + j] = ata[i * nt + j]! + row[i]! * row[j]!;
    }
  }
  const sol = solve(ata, atb, nt);
  // target/scale = sum c_i (x/scale)^p (y/scale)^q  =>  target = sum c_i scale^(1-p-q) x^p y^q.
  return Float64Array.from(sol, (c, i) => c * scale ** (1 - terms[i]!.p - terms[i]!.q));
}

/** Gaussian elimination with partial pivoting of the n x n system `a x = b` (a, b overwritten). */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(a[r * n + col]!) > Math.abs(a[piv * n + col]!)) piv = r;
    }
    if (piv !== col) {
      for (let c = 0; c < n; c++) {
        const t = a[col * n + c]!;
        a[col * n + c] = a[piv * n + c]!;
        a[piv * n + c] = t;
      }
      const t = b[col]!;
      b[col] = b[piv]!;
      b[piv] = t;
    }
    const d = a[col * n + col]!;
    for (let r = col + 1; r < n; r++) {
      const f = a[r * n + col]! / d;
      if (f === 0) continue;
      for (let c = col; c < n; c++) a[r * n + c] = a[r * n + c]! - f * a[col * n + c]!;
      b[r] = b[r]! - f * b[col]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let c = r + 1; c < n; c++) s -= a[r * n + c]! * x[c]!;
    x[r] = s / a[r * n + r]!;
  }
  return x;
}
