/**
 * Celestial world coordinate systems: gnomonic (TAN) and TAN-SIP.
 *
 * Pixel convention (as LSST's afw and astropy with origin 0): pixel coordinates are
 * **0-based**; (0, 0) is the centre of the first pixel, which covers
 * [-0.5, 0.5) x [-0.5, 0.5). FITS headers count from 1, so on disk CRPIX is 1-based and
 * in memory `crpix = CRPIX - 1`. Sky coordinates are (ra, dec) in degrees; pixel scales
 * are in arcsec/pixel.
 *
 * Formulas: Calabretta & Greisen 2002 (A&A 395, 1077) for the TAN projection and the
 * spherical rotation, Shupe et al. 2005 (ASP Conf. 347, 491) for SIP.
 */

import { ARCSEC_PER_DEG, DEG_PER_RAD, RAD_PER_DEG, wrapDeg360 } from './angle.ts';
import type { Box2I } from './box.ts';
import { WcsError } from './errors.ts';
import type { FitsCardSpec, FitsHeaderLike, FitsHeaderValue } from './fits-header.ts';
import {
  MAX_SIP_ORDER,
  type SipCoefficients,
  SipPolynomial,
  type SipPolynomialSpec,
} from './sip.ts';
import type { SpherePoint } from './sphere-point.ts';

/** A 2x2 matrix, row-major: `m[row][column]`. */
export type Matrix2 = readonly [readonly [number, number], readonly [number, number]];

/** Celestial reference frames the WCS can record (no frame conversion is done). */
export type RaDecSys = 'ICRS' | 'FK5';

/** Parameters of a pure TAN WCS. */
export interface TanWcsParams {
  /** Reference pixel (x, y), **0-based** pixels (= FITS CRPIX - 1). */
  readonly crpix: readonly [number, number];
  /** Reference sky position (ra, dec), degrees. */
  readonly crval: readonly [number, number];
  /**
   * CD matrix, degrees of intermediate world coordinate per pixel:
   * `cd[i][j]` is FITS `CD{i+1}_{j+1}`. East-left, north-up images have `cd[0][0] < 0`.
   */
  readonly cd: Matrix2;
  /**
   * Native longitude of the celestial pole (FITS LONPOLE), degrees. Default per
   * Calabretta & Greisen: 180, except 0 when CRVAL dec is exactly +90.
   */
  readonly lonpole?: number;
  /** Reference frame recorded in the header (default ICRS). */
  readonly radesys?: RaDecSys;
  /** Equinox (years) recorded in the header; defaults to 2000 for FK5, none for ICRS. */
  readonly equinox?: number;
}

/** Parameters of a TAN-SIP WCS: a TAN WCS plus SIP distortion polynomials. */
export interface TanSipWcsParams extends TanWcsParams {
  /** SIP polynomials (A/B forward, optional AP/BP inverse), in pixels relative to crpix. */
  readonly sip: SipCoefficients;
}

/** Parameters of {@link Wcs.fromScaleRotation}. */
export interface ScaleRotationParams {
  /** Reference pixel (x, y), 0-based pixels. */
  readonly crpix: readonly [number, number];
  /** Reference sky position (ra, dec), degrees. */
  readonly crval: readonly [number, number];
  /** Pixel scale, arcsec/pixel (> 0). */
  readonly scale: number;
  /**
   * Rotation, degrees: position angle of the pixel +y axis measured from north through
   * east (0 = north up). Same meaning as LSST's `makeCdMatrix(orientation=...)`.
   */
  readonly rotation?: number;
  /**
   * When false (default) east is to the left (the standard sky view, `CD1_1 < 0`);
   * when true the x axis is flipped so east is to the right. As LSST's `flipX`.
   */
  readonly flipX?: boolean;
  /** Reference frame recorded (default ICRS). */
  readonly radesys?: RaDecSys;
}

/** Output of the array forms: one Float64Array per coordinate. */
export interface SkyArrays {
  /** Right ascension, degrees in [0, 360). */
  readonly ra: Float64Array;
  /** Declination, degrees. */
  readonly dec: Float64Array;
}

/** Output of the array forms: one Float64Array per pixel axis. */
export interface PixelArrays {
  /** 0-based pixel x. */
  readonly x: Float64Array;
  /** 0-based pixel y. */
  readonly y: Float64Array;
}

/** Newton iterations of the SIP inverse stop when a step is below this many pixels. */
const SIP_STEP_TOLERANCE = 1e-11;
/** Newton iterations allowed before the SIP inverse reports WCS_NO_CONVERGENCE. */
const SIP_MAX_ITERATIONS = 50;

/**
 * A TAN or TAN-SIP world coordinate system (immutable).
 *
 * - Pixels are **0-based**: (0, 0) is the centre of the first pixel; the pixel's edges
 *   are at -0.5 and +0.5. `crpix` is 0-based (`CRPIX1 - 1` of the FITS header);
 *   {@link Wcs.fromFitsHeader} and {@link Wcs.toFitsCards} convert.
 * - Sky positions are (ra, dec) in degrees; RA is returned in [0, 360).
 * - The pipeline is pixel -> (SIP) -> CD matrix -> intermediate world coordinates
 *   (degrees) -> gnomonic deprojection -> spherical rotation -> (ra, dec), evaluated in
 *   float64 with unit vectors so that it stays exact at the poles and across RA = 0.
 * - Sky positions on or beyond the projection's horizon (90 degrees or more from CRVAL)
 *   have no pixel position: {@link skyToPixel} returns NaN for them.
 * - No frame conversion is done: `radesys` and `equinox` are recorded and written back.
 */
export class Wcs {
  /** Reference pixel, 0-based pixels. */
  readonly crpix: readonly [number, number];
  /** Reference sky position (ra, dec), degrees. */
  readonly crval: readonly [number, number];
  /** CD matrix, degrees per pixel, `cd[i][j]` = FITS `CD{i+1}_{j+1}`. */
  readonly cd: Matrix2;
  /** Native longitude of the celestial pole (FITS LONPOLE), degrees. */
  readonly lonpole: number;
  /** Recorded reference frame. */
  readonly radesys: RaDecSys;
  /** Recorded equinox in years, if any. */
  readonly equinox: number | undefined;

  private readonly cdInv: Matrix2;
  /** Rotation matrix, native unit vector -> celestial unit vector, row-major. */
  private readonly rot: Float64Array;
  private readonly sipA: SipPolynomial | undefined;
  private readonly sipB: SipPolynomial | undefined;
  private readonly sipAP: SipPolynomial | undefined;
  private readonly sipBP: SipPolynomial | undefined;
  /** Scratch for the scalar forms, so they allocate only their small result object. */
  private readonly scratch = new Float64Array(2);

  private constructor(params: TanWcsParams, sip: SipCoefficients | undefined) {
    const { crpix, crval, cd } = params;
    requireFinite(crpix[0], 'crpix[0]', 'CRPIX1');
    requireFinite(crpix[1], 'crpix[1]', 'CRPIX2');
    requireFinite(crval[0], 'crval[0]', 'CRVAL1');
    requireFinite(crval[1], 'crval[1]', 'CRVAL2');
    if (Math.abs(crval[1]) > 90) {
      throw new WcsError(
        'WCS_BAD_KEY',
        `CRVAL2 (reference declination) is ${crval[1]} degrees; it must be in [-90, 90]`,
        'CRVAL2',
      );
    }
    const [[c11, c12], [c21, c22]] = cd;
    requireFinite(c11, 'cd[0][0]', 'CD1_1');
    requireFinite(c12, 'cd[0][1]', 'CD1_2');
    requireFinite(c21, 'cd[1][0]', 'CD2_1');
    requireFinite(c22, 'cd[1][1]', 'CD2_2');
    const det = c11 * c22 - c12 * c21;
    const norm = Math.abs(c11) + Math.abs(c12) + Math.abs(c21) + Math.abs(c22);
    // Relative test: a scale of 1e-5 deg/pixel gives det ~ 1e-10, which is fine.
    if (!(Math.abs(det) > 1e-14 * norm * norm)) {
      throw new WcsError(
        'WCS_SINGULAR_CD',
        `CD matrix [[${c11}, ${c12}], [${c21}, ${c22}]] is singular (determinant ${det}); ` +
          'the header needs independent CD1_1..CD2_2 (or CDELT/PC) terms',
        'CD1_1',
      );
    }
    this.crpix = [crpix[0], crpix[1]];
    this.crval = [wrapDeg360(crval[0]), crval[1]];
    // `+ 0` turns -0 (e.g. from -CDELT2 * sin 0) into 0 so headers and equality stay clean.
    this.cd = [
      [c11 + 0, c12 + 0],
      [c21 + 0, c22 + 0],
    ];
    this.cdInv = [
      [c22 / det, -c12 / det],
      [-c21 / det, c11 / det],
    ];
    const lonpole = params.lonpole ?? (crval[1] >= 90 ? 0 : 180);
    requireFinite(lonpole, 'lonpole', 'LONPOLE');
    this.lonpole = lonpole;
    this.radesys = params.radesys ?? 'ICRS';
    if (this.radesys !== 'ICRS' && this.radesys !== 'FK5') {
      throw new WcsError(
        'WCS_UNSUPPORTED_FRAME',
        `RADESYS '${String(this.radesys)}' is not supported; use ICRS or FK5`,
        'RADESYS',
      );
    }
    const equinox = params.equinox ?? (this.radesys === 'FK5' ? 2000 : undefined);
    if (equinox !== undefined) requireFinite(equinox, 'equinox', 'EQUINOX');
    this.equinox = equinox;
    this.rot = celestialRotation(this.crval[0], this.crval[1], lonpole);
    if (sip) {
      this.sipA = new SipPolynomial(sip.a, 'A');
      this.sipB = new SipPolynomial(sip.b, 'B');
      if (sip.ap && sip.bp) {
        this.sipAP = new SipPolynomial(sip.ap, 'AP');
        this.sipBP = new SipPolynomial(sip.bp, 'BP');
      }
    }
  }

  /** A pure TAN (gnomonic) WCS. `crpix` is 0-based. */
  static tan(params: TanWcsParams): Wcs {
    return new Wcs(params, undefined);
  }

  /** A TAN-SIP WCS. `crpix` is 0-based; SIP offsets are relative to it, in pixels. */
  static tanSip(params: TanSipWcsParams): Wcs {
    return new Wcs(params, params.sip);
  }

  /**
   * A TAN WCS from a pixel scale and rotation (as LSST's `makeCdMatrix`):
   * `CD = scale * [[-cos r, sin r], [sin r, cos r]]` with the first column negated back
   * when `flipX` is true. `scale` is arcsec/pixel, `rotation` degrees.
   */
  static fromScaleRotation(params: ScaleRotationParams): Wcs {
    const { scale } = params;
    if (!(Number.isFinite(scale) && scale > 0)) {
      throw new WcsError(
        'WCS_BAD_ARGUMENT',
        `pixel scale must be a positive number of arcsec/pixel, got ${scale}`,
        'scale',
      );
    }
    const rotation = params.rotation ?? 0;
    requireFinite(rotation, 'rotation', 'rotation');
    const s = scale / ARCSEC_PER_DEG;
    const r = rotation * RAD_PER_DEG;
    const xmult = params.flipX ? 1 : -1;
    const cd: Matrix2 = [
      [Math.cos(r) * s * xmult, Math.sin(r) * s],
      [-Math.sin(r) * s * xmult, Math.cos(r) * s],
    ];
    return new Wcs(
      {
        crpix: params.crpix,
        crval: params.crval,
        cd,
        ...(params.radesys ? { radesys: params.radesys } : {}),
      },
      undefined,
    );
  }

  /**
   * Read a TAN or TAN-SIP WCS from a FITS header (primary WCS, no alternate letter).
   *
   * Reads CTYPE1/2 (`RA---TAN`/`DEC--TAN`, optionally `-SIP`), CRPIX1/2 (1-based),
   * CRVAL1/2, the linear part from CD1_1..CD2_2, else CDELT1/2 with PC1_1..PC2_2, else
   * CDELT1/2 with CROTA2, CUNIT1/2 (must be `deg` when present), LONPOLE, RADESYS (or
   * RADECSYS) and EQUINOX (or EPOCH), and for `-SIP` A_ORDER/B_ORDER, A_p_q/B_p_q and,
   * when both are present, AP_ORDER/BP_ORDER with AP_p_q/BP_p_q. SIP keywords are used
   * only when CTYPE ends in `-SIP`, as the FITS convention says. LATPOLE does not matter
   * for a zenithal projection and is ignored.
   *
   * @throws WcsError WCS_MISSING_KEY, WCS_BAD_KEY (NaN, wrong type, bad unit),
   *   WCS_UNSUPPORTED_PROJECTION, WCS_UNSUPPORTED_FRAME, WCS_SINGULAR_CD.
   */
  static fromFitsHeader(header: FitsHeaderLike): Wcs {
    const ctype1 = readString(header, 'CTYPE1', true).toUpperCase();
    const ctype2 = readString(header, 'CTYPE2', true).toUpperCase();
    const sip1 = parseCtype(ctype1, 'RA', 'CTYPE1');
    const sip2 = parseCtype(ctype2, 'DEC', 'CTYPE2');
    if (sip1 !== sip2) {
      throw new WcsError(
        'WCS_BAD_KEY',
        `CTYPE1 '${ctype1}' and CTYPE2 '${ctype2}' disagree about '-SIP'; both axes must carry it or neither`,
        'CTYPE2',
      );
    }
    for (const key of ['CUNIT1', 'CUNIT2']) {
      const unit = readString(header, key, false);
      if (unit !== '' && unit.toLowerCase() !== 'deg') {
        throw new WcsError(
          'WCS_BAD_KEY',
          `${key} is '${unit}'; only 'deg' is supported for celestial axes`,
          key,
        );
      }
    }
    const crpix1 = readNumber(header, 'CRPIX1', true);
    const crpix2 = readNumber(header, 'CRPIX2', true);
    const crval1 = readNumber(header, 'CRVAL1', true);
    const crval2 = readNumber(header, 'CRVAL2', true);
    const cd = readLinearTransform(header);
    const lonpole = readNumber(header, 'LONPOLE', false);
    const { radesys, equinox } = readFrame(header);
    const params: TanWcsParams = {
      crpix: [crpix1 - 1, crpix2 - 1],
      crval: [crval1, crval2],
      cd,
      radesys,
      ...(lonpole !== undefined ? { lonpole } : {}),
      ...(equinox !== undefined ? { equinox } : {}),
    };
    if (!sip1) return new Wcs(params, undefined);
    const a = readSipPolynomial(header, 'A', true);
    const b = readSipPolynomial(header, 'B', true);
    const ap = readSipPolynomial(header, 'AP', false);
    const bp = readSipPolynomial(header, 'BP', false);
    const sip: SipCoefficients = {
      a: a!,
      b: b!,
      ...(ap && bp ? { ap, bp } : {}),
    };
    return new Wcs(params, sip);
  }

  /** True when the WCS has SIP distortion terms. */
  get hasSip(): boolean {
    return this.sipA !== undefined;
  }

  /** True when the SIP inverse terms (AP/BP) are present. */
  get hasSipInverse(): boolean {
    return this.sipAP !== undefined;
  }

  /** The SIP polynomials as plain data, or undefined for a pure TAN WCS. */
  get sip(): SipCoefficients | undefined {
    if (!this.sipA || !this.sipB) return undefined;
    return {
      a: this.sipA.toSpec(),
      b: this.sipB.toSpec(),
      ...(this.sipAP && this.sipBP ? { ap: this.sipAP.toSpec(), bp: this.sipBP.toSpec() } : {}),
    };
  }

  /**
   * The same sky mapping with the pixel origin moved by (dx, dy) pixels: pixel
   * (x + dx, y + dy) of the result sees the sky that pixel (x, y) of this WCS sees.
   * As LSST's `SkyWcs.copyAtShiftedPixelOrigin`.
   */
  withShiftedPixelOrigin(dx: number, dy: number): Wcs {
    return new Wcs(
      {
        crpix: [this.crpix[0] + dx, this.crpix[1] + dy],
        crval: this.crval,
        cd: this.cd,
        lonpole: this.lonpole,
        radesys: this.radesys,
        ...(this.equinox !== undefined ? { equinox: this.equinox } : {}),
      },
      this.sip,
    );
  }

  /**
   * Cards describing this WCS for a FITS header: CTYPE1/2, CUNIT1/2, CRPIX1/2
   * (**1-based**), CRVAL1/2, CD1_1..CD2_2, LONPOLE, RADESYS, EQUINOX and for TAN-SIP the
   * non-zero A/B (and AP/BP) coefficients with their orders.
   */
  toFitsCards(): FitsCardSpec[] {
    const suffix = this.hasSip ? '-SIP' : '';
    const cards: FitsCardSpec[] = [
      { key: 'CTYPE1', value: `RA---TAN${suffix}`, comment: 'gnomonic projection' },
      { key: 'CTYPE2', value: `DEC--TAN${suffix}`, comment: 'gnomonic projection' },
      { key: 'CUNIT1', value: 'deg', comment: 'unit of CRVAL1 and CD1_j' },
      { key: 'CUNIT2', value: 'deg', comment: 'unit of CRVAL2 and CD2_j' },
      { key: 'CRPIX1', value: this.crpix[0] + 1, comment: 'reference pixel x (1-based)' },
      { key: 'CRPIX2', value: this.crpix[1] + 1, comment: 'reference pixel y (1-based)' },
      { key: 'CRVAL1', value: this.crval[0], comment: '[deg] RA at reference pixel' },
      { key: 'CRVAL2', value: this.crval[1], comment: '[deg] Dec at reference pixel' },
      { key: 'CD1_1', value: this.cd[0][0], comment: '[deg/pixel] linear transform' },
      { key: 'CD1_2', value: this.cd[0][1], comment: '[deg/pixel] linear transform' },
      { key: 'CD2_1', value: this.cd[1][0], comment: '[deg/pixel] linear transform' },
      { key: 'CD2_2', value: this.cd[1][1], comment: '[deg/pixel] linear transform' },
      { key: 'LONPOLE', value: this.lonpole, comment: '[deg] native longitude of celestial pole' },
      { key: 'RADESYS', value: this.radesys, comment: 'celestial reference frame' },
    ];
    cards.push({
      key: 'EQUINOX',
      value: this.equinox ?? 2000,
      comment: this.radesys === 'ICRS' ? 'not used by ICRS; written for old readers' : 'equinox',
    });
    const polys: Array<[string, SipPolynomial | undefined]> = [
      ['A', this.sipA],
      ['B', this.sipB],
      ['AP', this.sipAP],
      ['BP', this.sipBP],
    ];
    for (const [name, poly] of polys) {
      if (!poly) continue;
      cards.push({ key: `${name}_ORDER`, value: poly.order, comment: 'SIP polynomial order' });
      for (const { p, q, value } of poly.terms()) {
        cards.push({ key: `${name}_${p}_${q}`, value });
      }
    }
    return cards;
  }

  /** Sky position (degrees) of 0-based pixel (x, y). */
  pixelToSky(x: number, y: number): SpherePoint {
    this.pixelToSkyInto(x, y, this.scratch);
    return { ra: this.scratch[0]!, dec: this.scratch[1]! };
  }

  /**
   * Sky positions (degrees) of many 0-based pixels; `xs` and `ys` have equal lengths.
   * Allocates only the two output arrays.
   */
  pixelToSkyMany(xs: Float64Array, ys: Float64Array): SkyArrays {
    requireSameLength(xs, ys);
    const ra = new Float64Array(xs.length);
    const dec = new Float64Array(xs.length);
    const out = this.scratch;
    for (let i = 0; i < xs.length; i++) {
      this.pixelToSkyInto(xs[i]!, ys[i]!, out);
      ra[i] = out[0]!;
      dec[i] = out[1]!;
    }
    return { ra, dec };
  }

  /**
   * 0-based pixel position of sky position (ra, dec) in degrees. Returns NaN
   * coordinates for positions 90 degrees or more from CRVAL (behind the tangent plane)
   * and for NaN input.
   * For TAN-SIP the SIP inverse is solved by Newton iterations to < 1e-11 pixels.
   *
   * @throws WcsError WCS_NO_CONVERGENCE when the SIP inverse does not converge (the
   *   position is far outside the region where the distortion polynomial is valid).
   */
  skyToPixel(ra: number, dec: number): { x: number; y: number } {
    this.skyToPixelInto(ra, dec, this.scratch, -1);
    return { x: this.scratch[0]!, y: this.scratch[1]! };
  }

  /** Array form of {@link skyToPixel}; allocates only the two output arrays. */
  skyToPixelMany(ras: Float64Array, decs: Float64Array): PixelArrays {
    requireSameLength(ras, decs);
    const x = new Float64Array(ras.length);
    const y = new Float64Array(ras.length);
    const out = this.scratch;
    for (let i = 0; i < ras.length; i++) {
      this.skyToPixelInto(ras[i]!, decs[i]!, out, i);
      x[i] = out[0]!;
      y[i] = out[1]!;
    }
    return { x, y };
  }

  /**
   * Local derivative of the sky position with respect to pixel position at 0-based
   * pixel (x, y), in **degrees of sky per pixel**:
   * `[[dxi/dx, dxi/dy], [deta/dx, deta/dy]]`, where xi is the offset toward east
   * (increasing RA, i.e. dRA * cos(dec)) and eta toward north (increasing dec), both
   * as angles on the sky. At CRVAL of an unrotated TAN WCS with the default LONPOLE
   * this equals the CD matrix. At the poles, "east" is taken at RA = 0.
   */
  jacobian(x: number, y: number): Matrix2 {
    const u = x - this.crpix[0];
    const v = y - this.crpix[1];
    // Pixel -> distorted offset derivative (identity for pure TAN).
    let d11 = 1;
    let d12 = 0;
    let d21 = 0;
    let d22 = 1;
    let uu = u;
    let vv = v;
    if (this.sipA && this.sipB) {
      const fa = this.sipA.evaluateWithDerivatives(u, v);
      uu = u + fa[0]!;
      d11 += fa[1]!;
      d12 += fa[2]!;
      const fb = this.sipB.evaluateWithDerivatives(u, v);
      vv = v + fb[0]!;
      d21 += fb[1]!;
      d22 += fb[2]!;
    }
    const [[c11, c12], [c21, c22]] = this.cd;
    // Intermediate world coordinates (degrees) per pixel.
    const m11 = c11 * d11 + c12 * d21;
    const m12 = c11 * d12 + c12 * d22;
    const m21 = c21 * d11 + c22 * d21;
    const m22 = c21 * d12 + c22 * d22;
    const X = (c11 * uu + c12 * vv) * RAD_PER_DEG;
    const Y = (c21 * uu + c22 * vv) * RAD_PER_DEG;
    // Native unit vector p/|p| with p = (-Y, X, 1); its derivatives along X and Y.
    const s = Math.sqrt(1 + X * X + Y * Y);
    const p0 = -Y / s;
    const p1 = X / s;
    const p2 = 1 / s;
    const dX = [(-p1 * p0) / s, (1 - p1 * p1) / s, (-p1 * p2) / s] as const;
    const dY = [(-1 + p0 * p0) / s, (p0 * p1) / s, (p0 * p2) / s] as const;
    const r = this.rot;
    const apply = (a: number, b: number, c: number): [number, number, number] => [
      r[0]! * a + r[1]! * b + r[2]! * c,
      r[3]! * a + r[4]! * b + r[5]! * c,
      r[6]! * a + r[7]! * b + r[8]! * c,
    ];
    const w = apply(p0, p1, p2);
    const wX = apply(dX[0], dX[1], dX[2]);
    const wY = apply(dY[0], dY[1], dY[2]);
    const rho = Math.hypot(w[0], w[1]);
    const cosA = rho > 0 ? w[0] / rho : 1;
    const sinA = rho > 0 ? w[1] / rho : 0;
    const sinD = w[2];
    const cosD = rho;
    const east = [-sinA, cosA, 0] as const;
    const north = [-sinD * cosA, -sinD * sinA, cosD] as const;
    const dot = (a: readonly number[], b: readonly number[]): number =>
      a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
    // Radians of sky per radian of intermediate coordinate: the unit ratio is 1, so the
    // product with the degrees-per-pixel matrix is degrees of sky per pixel.
    const t11 = dot(east, wX);
    const t12 = dot(east, wY);
    const t21 = dot(north, wX);
    const t22 = dot(north, wY);
    return [
      [t11 * m11 + t12 * m21, t11 * m12 + t12 * m22],
      [t21 * m11 + t22 * m21, t21 * m12 + t22 * m22],
    ];
  }

  /**
   * Local pixel scale in arcsec/pixel at 0-based pixel (x, y) (default: the reference
   * pixel), the square root of the absolute Jacobian determinant: the side of a square
   * with the pixel's area on the sky.
   */
  pixelScale(x: number = this.crpix[0], y: number = this.crpix[1]): number {
    const [[a, b], [c, d]] = this.jacobian(x, y);
    return Math.sqrt(Math.abs(a * d - b * c)) * ARCSEC_PER_DEG;
  }

  /**
   * Sky positions (degrees) of the outer corners of a pixel box, i.e. of the pixel
   * edges (minX - 0.5, minY - 0.5), (maxX + 0.5, minY - 0.5), (maxX + 0.5, maxY + 0.5),
   * (minX - 0.5, maxY + 0.5), in that order (counter-clockwise in pixel space).
   *
   * @throws WcsError WCS_BAD_ARGUMENT for an empty box.
   */
  skyPolygon(bbox: Box2I): SpherePoint[] {
    if (bbox.isEmpty) {
      throw new WcsError(
        'WCS_BAD_ARGUMENT',
        `cannot make a sky polygon of empty box ${bbox.toString()}`,
        'bbox',
      );
    }
    const x0 = bbox.minX - 0.5;
    const y0 = bbox.minY - 0.5;
    const x1 = bbox.maxX + 0.5;
    const y1 = bbox.maxY + 0.5;
    return [
      this.pixelToSky(x0, y0),
      this.pixelToSky(x1, y0),
      this.pixelToSky(x1, y1),
      this.pixelToSky(x0, y1),
    ];
  }

  /** Writes (ra, dec) degrees of 0-based pixel (x, y) into out[0], out[1]. */
  private pixelToSkyInto(x: number, y: number, out: Float64Array): void {
    let u = x - this.crpix[0];
    let v = y - this.crpix[1];
    if (this.sipA && this.sipB) {
      const du = this.sipA.evaluate(u, v);
      const dv = this.sipB.evaluate(u, v);
      u += du;
      v += dv;
    }
    const cd = this.cd;
    const X = (cd[0][0] * u + cd[0][1] * v) * RAD_PER_DEG;
    const Y = (cd[1][0] * u + cd[1][1] * v) * RAD_PER_DEG;
    // TAN: native direction cosines are (-Y, X, 1) / sqrt(1 + X^2 + Y^2); the
    // normalisation cancels in atan2, so it is skipped.
    const r = this.rot;
    const w0 = -r[0]! * Y + r[1]! * X + r[2]!;
    const w1 = -r[3]! * Y + r[4]! * X + r[5]!;
    const w2 = -r[6]! * Y + r[7]! * X + r[8]!;
    const rho = Math.hypot(w0, w1);
    out[0] = rho === 0 ? 0 : wrapDeg360(Math.atan2(w1, w0) * DEG_PER_RAD);
    out[1] = Math.atan2(w2, rho) * DEG_PER_RAD;
  }

  /** Writes 0-based (x, y) of sky position (ra, dec) degrees into out[0], out[1]. */
  private skyToPixelInto(ra: number, dec: number, out: Float64Array, index: number): void {
    const a = ra * RAD_PER_DEG;
    const d = dec * RAD_PER_DEG;
    const cd = Math.cos(d);
    const c0 = cd * Math.cos(a);
    const c1 = cd * Math.sin(a);
    const c2 = Math.sin(d);
    // Celestial -> native is the transpose of the rotation.
    const r = this.rot;
    const n0 = r[0]! * c0 + r[3]! * c1 + r[6]! * c2;
    const n1 = r[1]! * c0 + r[4]! * c1 + r[7]! * c2;
    const n2 = r[2]! * c0 + r[5]! * c1 + r[8]! * c2;
    // cos(90 deg) evaluates to ~6e-17, not 0: treat anything that close to the horizon
    // (a tangent-plane distance above 1e15 radians) as beyond it.
    if (!(n2 > 1e-15)) {
      out[0] = Number.NaN;
      out[1] = Number.NaN;
      return;
    }
    const X = (n1 / n2) * DEG_PER_RAD;
    const Y = (-n0 / n2) * DEG_PER_RAD;
    const ci = this.cdInv;
    const U = ci[0][0] * X + ci[0][1] * Y;
    const V = ci[1][0] * X + ci[1][1] * Y;
    // NaN in (e.g. a masked catalogue entry) gives NaN out, never a convergence error.
    if (!this.sipA || !this.sipB || !Number.isFinite(U) || !Number.isFinite(V)) {
      out[0] = U + this.crpix[0];
      out[1] = V + this.crpix[1];
      return;
    }
    this.invertSip(U, V, out, ra, dec, index);
    out[0] = out[0]! + this.crpix[0];
    out[1] = out[1]! + this.crpix[1];
  }

  /**
   * Solves u + A(u, v) = U, v + B(u, v) = V for (u, v) by Newton's method, starting
   * from the AP/BP inverse when present (it is usually good to 1e-3 pixels, so two or
   * three iterations finish) and from (U, V) otherwise.
   */
  private invertSip(
    U: number,
    V: number,
    out: Float64Array,
    ra: number,
    dec: number,
    index: number,
  ): void {
    const A = this.sipA!;
    const B = this.sipB!;
    let u = U;
    let v = V;
    if (this.sipAP && this.sipBP) {
      u = U + this.sipAP.evaluate(U, V);
      v = V + this.sipBP.evaluate(U, V);
      // A wild AP/BP (fitted over a smaller area) must not push Newton off course.
      if (!Number.isFinite(u) || !Number.isFinite(v)) {
        u = U;
        v = V;
      }
    }
    for (let iter = 0; iter < SIP_MAX_ITERATIONS; iter++) {
      const fa = A.evaluateWithDerivatives(u, v);
      const f = fa[0]!;
      const fu = fa[1]!;
      const fv = fa[2]!;
      const fb = B.evaluateWithDerivatives(u, v);
      const g = fb[0]!;
      const gu = fb[1]!;
      const gv = fb[2]!;
      const r1 = u + f - U;
      const r2 = v + g - V;
      const j11 = 1 + fu;
      const j22 = 1 + gv;
      const det = j11 * j22 - fv * gu;
      const du = (j22 * r1 - fv * r2) / det;
      const dv = (j11 * r2 - gu * r1) / det;
      if (!Number.isFinite(du) || !Number.isFinite(dv)) break;
      u -= du;
      v -= dv;
      const tol = SIP_STEP_TOLERANCE + 1e-15 * (Math.abs(u) + Math.abs(v));
      if (Math.abs(du) <= tol && Math.abs(dv) <= tol) {
        out[0] = u;
        out[1] = v;
        return;
      }
    }
    const where = index >= 0 ? ` (array element ${index})` : '';
    throw new WcsError(
      'WCS_NO_CONVERGENCE',
      `SIP inverse did not converge for (ra, dec) = (${ra}, ${dec})${where}: the position is ` +
        'probably far outside the region the SIP polynomial was fitted on; ' +
        'restrict sky-to-pixel queries to the image footprint',
      'A_ORDER',
    );
  }
}

/**
 * Rotation matrix (row-major) taking native unit vectors of a zenithal projection
 * (native pole at the reference point) to celestial unit vectors, for celestial pole
 * coordinates (alpha_p, delta_p) = (crval) and native pole longitude phi_p = lonpole.
 * It is Rz(alpha_p) . F(delta_p) . Rz(-phi_p), which reproduces Calabretta & Greisen
 * eq. (2) without going through latitudes (no asin near the poles).
 */
function celestialRotation(ra0: number, dec0: number, lonpole: number): Float64Array {
  const ap = ra0 * RAD_PER_DEG;
  const dp = dec0 * RAD_PER_DEG;
  const pp = lonpole * RAD_PER_DEG;
  const ca = Math.cos(ap);
  const sa = Math.sin(ap);
  const cdp = Math.cos(dp);
  const sdp = Math.sin(dp);
  const cp = Math.cos(pp);
  const sp = Math.sin(pp);
  // Rz(-phi_p): rotates native longitudes so that the celestial pole sits at 0.
  const z1 = [cp, sp, 0, -sp, cp, 0, 0, 0, 1];
  // F: native (relative to phi_p) -> celestial (relative to alpha_p).
  const f = [-sdp, 0, cdp, 0, -1, 0, cdp, 0, sdp];
  const z2 = [ca, -sa, 0, sa, ca, 0, 0, 0, 1];
  return new Float64Array(mul3(z2, mul3(f, z1)));
}

function mul3(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += a[i * 3 + k]! * b[k * 3 + j]!;
      out[i * 3 + j] = s;
    }
  }
  return out;
}

function requireFinite(value: number, name: string, fitsKey: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new WcsError(
      'WCS_BAD_KEY',
      `${name} (FITS ${fitsKey}) is ${String(value)}; it must be a finite number`,
      fitsKey,
    );
  }
}

function requireSameLength(a: Float64Array, b: Float64Array): void {
  if (a.length !== b.length) {
    throw new WcsError(
      'WCS_BAD_ARGUMENT',
      `coordinate arrays differ in length (${a.length} vs ${b.length}); pass one value per point in each`,
      'length',
    );
  }
}

function describe(value: FitsHeaderValue): string {
  if (typeof value === 'object') return `complex (${value.re}, ${value.im})`;
  return `${typeof value} ${JSON.stringify(typeof value === 'bigint' ? String(value) : value)}`;
}

/** A numeric card; integers stored as bigint are accepted. */
function readNumber(header: FitsHeaderLike, key: string, required: true): number;
function readNumber(header: FitsHeaderLike, key: string, required: false): number | undefined;
function readNumber(header: FitsHeaderLike, key: string, required: boolean): number | undefined {
  const raw = header.get(key);
  if (raw === undefined) {
    if (!required) return undefined;
    throw new WcsError(
      'WCS_MISSING_KEY',
      `FITS header has no ${key}; a celestial TAN WCS needs CTYPE1/2, CRPIX1/2, CRVAL1/2 and CD (or CDELT) cards`,
      key,
    );
  }
  const value = typeof raw === 'bigint' ? Number(raw) : raw;
  if (typeof value !== 'number') {
    throw new WcsError(
      'WCS_BAD_KEY',
      `FITS ${key} must be a number, got ${describe(raw)}; fix the card's value`,
      key,
    );
  }
  if (!Number.isFinite(value)) {
    throw new WcsError(
      'WCS_BAD_KEY',
      `FITS ${key} is ${value}; it must be a finite number (the WCS of this HDU is unusable)`,
      key,
    );
  }
  return value;
}

/** A string card, trimmed ('' when absent and not required). */
function readString(header: FitsHeaderLike, key: string, required: boolean): string {
  const raw = header.get(key);
  if (raw === undefined) {
    if (!required) return '';
    throw new WcsError(
      'WCS_MISSING_KEY',
      `FITS header has no ${key}; expected 'RA---TAN' / 'DEC--TAN' (optionally with '-SIP')`,
      key,
    );
  }
  if (typeof raw !== 'string') {
    throw new WcsError(
      'WCS_BAD_KEY',
      `FITS ${key} must be a string, got ${describe(raw)}; fix the card's value`,
      key,
    );
  }
  return raw.trim();
}

/** Checks a CTYPE and returns whether it carries the '-SIP' suffix. */
function parseCtype(ctype: string, axis: 'RA' | 'DEC', key: string): boolean {
  const expected = axis === 'RA' ? 'RA---TAN' : 'DEC--TAN';
  if (ctype === expected) return false;
  if (ctype === `${expected}-SIP`) return true;
  const m = /^([A-Z]{1,4})-*([A-Z0-9]{3})(-[A-Z]+)?$/.exec(ctype);
  const coord = m?.[1];
  const proj = m?.[2];
  if (coord && coord !== axis) {
    const frameMessage =
      coord === 'RA' || coord === 'DEC'
        ? `${key} is '${ctype}' but axis order must be RA then DEC; swapped axes are not supported`
        : `${key} is '${ctype}': only equatorial (RA/DEC) celestial axes are supported`;
    throw new WcsError('WCS_UNSUPPORTED_PROJECTION', frameMessage, key);
  }
  throw new WcsError(
    'WCS_UNSUPPORTED_PROJECTION',
    `${key} is '${ctype}'${proj ? ` (projection ${proj}${m?.[3] ?? ''})` : ''}; only TAN and TAN-SIP ` +
      `('${expected}', '${expected}-SIP') are supported; refit or convert the WCS (TPV/ZPN/SIN are not)`,
    key,
  );
}

/** CD matrix from CDi_j, or CDELTi with PCi_j, or CDELTi with CROTA2. */
function readLinearTransform(header: FitsHeaderLike): Matrix2 {
  const cdKeys = ['CD1_1', 'CD1_2', 'CD2_1', 'CD2_2'] as const;
  if (cdKeys.some((k) => header.get(k) !== undefined)) {
    const [c11, c12, c21, c22] = cdKeys.map((k) => readNumber(header, k, false) ?? 0) as [
      number,
      number,
      number,
      number,
    ];
    return [
      [c11, c12],
      [c21, c22],
    ];
  }
  const cdelt1 = readNumber(header, 'CDELT1', false);
  const cdelt2 = readNumber(header, 'CDELT2', false);
  if (cdelt1 === undefined && cdelt2 === undefined) {
    throw new WcsError(
      'WCS_MISSING_KEY',
      'FITS header has neither CD1_1..CD2_2 nor CDELT1/CDELT2; add the CD matrix (degrees/pixel)',
      'CD1_1',
    );
  }
  if (cdelt1 === undefined || cdelt2 === undefined) {
    const missing = cdelt1 === undefined ? 'CDELT1' : 'CDELT2';
    throw new WcsError(
      'WCS_MISSING_KEY',
      `FITS header has only one of CDELT1/CDELT2; add ${missing}`,
      missing,
    );
  }
  const pcKeys = ['PC1_1', 'PC1_2', 'PC2_1', 'PC2_2'] as const;
  if (pcKeys.some((k) => header.get(k) !== undefined)) {
    const defaults = [1, 0, 0, 1];
    const [p11, p12, p21, p22] = pcKeys.map(
      (k, i) => readNumber(header, k, false) ?? defaults[i]!,
    ) as [number, number, number, number];
    return [
      [cdelt1 * p11, cdelt1 * p12],
      [cdelt2 * p21, cdelt2 * p22],
    ];
  }
  const crota2 = readNumber(header, 'CROTA2', false) ?? 0;
  const c = Math.cos(crota2 * RAD_PER_DEG);
  const s = Math.sin(crota2 * RAD_PER_DEG);
  // The AIPS convention (Calabretta & Greisen eq. 189 with rho = CROTA2).
  return [
    [cdelt1 * c, -cdelt2 * s],
    [cdelt1 * s, cdelt2 * c],
  ];
}

function readFrame(header: FitsHeaderLike): { radesys: RaDecSys; equinox: number | undefined } {
  let key = 'RADESYS';
  let raw = readString(header, 'RADESYS', false);
  if (raw === '') {
    key = 'RADECSYS';
    raw = readString(header, 'RADECSYS', false);
  }
  let equinox = readNumber(header, 'EQUINOX', false);
  if (equinox === undefined) equinox = readNumber(header, 'EPOCH', false);
  const frame = raw.toUpperCase();
  if (frame === '') {
    // FITS defaults: ICRS without an equinox, FK5 for equinox >= 1984, else FK4.
    if (equinox === undefined) return { radesys: 'ICRS', equinox };
    if (equinox >= 1984) return { radesys: 'FK5', equinox };
    throw new WcsError(
      'WCS_UNSUPPORTED_FRAME',
      `EQUINOX ${equinox} without RADESYS implies FK4, which is not supported; convert to ICRS or FK5`,
      'EQUINOX',
    );
  }
  if (frame === 'ICRS' || frame === 'FK5') return { radesys: frame, equinox };
  throw new WcsError(
    'WCS_UNSUPPORTED_FRAME',
    `${key} '${raw}' is not supported; only ICRS and FK5 are (no frame conversion is done)`,
    key,
  );
}

/** One SIP polynomial from NAME_ORDER and NAME_p_q cards. */
function readSipPolynomial(
  header: FitsHeaderLike,
  name: 'A' | 'B' | 'AP' | 'BP',
  required: boolean,
): SipPolynomialSpec | undefined {
  const orderKey = `${name}_ORDER`;
  const order = required ? readNumber(header, orderKey, true) : readNumber(header, orderKey, false);
  if (order === undefined) return undefined;
  if (!Number.isInteger(order) || order < 0 || order > MAX_SIP_ORDER) {
    throw new WcsError(
      'WCS_BAD_KEY',
      `${orderKey} is ${order}; it must be an integer in 0..${MAX_SIP_ORDER}`,
      orderKey,
    );
  }
  const coefficients: number[][] = [];
  for (let p = 0; p <= order; p++) {
    const row: number[] = [];
    for (let q = 0; q <= order; q++) {
      row.push(p + q <= order ? (readNumber(header, `${name}_${p}_${q}`, false) ?? 0) : 0);
    }
    coefficients.push(row);
  }
  return { order, coefficients };
}
