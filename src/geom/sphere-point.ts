/**
 * Points on the celestial sphere: unit vectors, separations, position angles, offsets.
 *
 * Conventions: (ra, dec) in degrees, ICRS unless a WCS says otherwise; RA is any real
 * number on input and [0, 360) on output; dec in [-90, 90]. Position angles are measured
 * from north through east (the astronomical convention), in degrees. All arithmetic is
 * float64 and uses forms that stay accurate for tiny and near-antipodal separations.
 */

import { DEG_PER_RAD, RAD_PER_DEG, wrapDeg360 } from './angle.ts';

/** A sky position in degrees. */
export interface SpherePoint {
  /** Right ascension (longitude), degrees. */
  readonly ra: number;
  /** Declination (latitude), degrees. */
  readonly dec: number;
}

/** A Cartesian unit vector (x toward ra=0,dec=0; y toward ra=90,dec=0; z toward dec=+90). */
export type UnitVector = readonly [x: number, y: number, z: number];

/** Unit vector of the sky position (ra, dec) in degrees. */
export function unitVector(ra: number, dec: number): UnitVector {
  const a = ra * RAD_PER_DEG;
  const d = dec * RAD_PER_DEG;
  const cd = Math.cos(d);
  return [cd * Math.cos(a), cd * Math.sin(a), Math.sin(d)];
}

/**
 * Sky position (degrees) of a Cartesian vector; it need not be normalised.
 * The zero vector gives (0, 0). RA is in [0, 360).
 */
export function fromUnitVector(x: number, y: number, z: number): SpherePoint {
  // atan2 on both angles keeps full precision near the poles, where asin(z) does not.
  const ra = x === 0 && y === 0 ? 0 : wrapDeg360(Math.atan2(y, x) * DEG_PER_RAD);
  const dec = Math.atan2(z, Math.hypot(x, y)) * DEG_PER_RAD;
  return { ra, dec };
}

/**
 * Great-circle angular separation between two positions, in degrees.
 *
 * Uses Vincenty's formula (atan2 of |cross| and dot), which is accurate for all
 * separations, unlike the law of cosines (fails for tiny ones) or haversine (fails near
 * 180 degrees).
 */
export function angularSeparation(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const dra = (ra2 - ra1) * RAD_PER_DEG;
  const d1 = dec1 * RAD_PER_DEG;
  const d2 = dec2 * RAD_PER_DEG;
  const s1 = Math.sin(d1);
  const c1 = Math.cos(d1);
  const s2 = Math.sin(d2);
  const c2 = Math.cos(d2);
  const sdra = Math.sin(dra);
  const cdra = Math.cos(dra);
  const num1 = c2 * sdra;
  const num2 = c1 * s2 - s1 * c2 * cdra;
  const den = s1 * s2 + c1 * c2 * cdra;
  return Math.atan2(Math.hypot(num1, num2), den) * DEG_PER_RAD;
}

/** {@link angularSeparation} between two {@link SpherePoint}s, degrees. */
export function separation(a: SpherePoint, b: SpherePoint): number {
  return angularSeparation(a.ra, a.dec, b.ra, b.dec);
}

/**
 * Position angle of point 2 as seen from point 1: the direction of the great circle
 * leaving point 1 toward point 2, measured from north through east, in degrees in
 * [0, 360). Undefined (returns 0) when the points coincide or point 1 is a pole's
 * exact location with no preferred north.
 *
 * LSST's `SpherePoint.bearingTo` measures from east toward north instead:
 * bearing = 90 - positionAngle.
 */
export function positionAngle(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const dra = (ra2 - ra1) * RAD_PER_DEG;
  const d1 = dec1 * RAD_PER_DEG;
  const d2 = dec2 * RAD_PER_DEG;
  const y = Math.sin(dra) * Math.cos(d2);
  const x = Math.cos(d1) * Math.sin(d2) - Math.sin(d1) * Math.cos(d2) * Math.cos(dra);
  if (x === 0 && y === 0) return 0;
  return wrapDeg360(Math.atan2(y, x) * DEG_PER_RAD);
}

/**
 * The point reached by moving `distance` degrees along the great circle that leaves
 * (ra, dec) at position angle `pa` (degrees, north through east). Inverse of
 * {@link angularSeparation} + {@link positionAngle}.
 */
export function offsetPoint(ra: number, dec: number, pa: number, distance: number): SpherePoint {
  // Build the local east/north basis at the start point and rotate within the plane
  // spanned by the start vector and the chosen tangent direction: exact for any distance.
  const a = ra * RAD_PER_DEG;
  const d = dec * RAD_PER_DEG;
  const p = pa * RAD_PER_DEG;
  const r = distance * RAD_PER_DEG;
  const ca = Math.cos(a);
  const sa = Math.sin(a);
  const cd = Math.cos(d);
  const sd = Math.sin(d);
  const start = [cd * ca, cd * sa, sd] as const;
  const east = [-sa, ca, 0] as const;
  const north = [-sd * ca, -sd * sa, cd] as const;
  const cp = Math.cos(p);
  const sp = Math.sin(p);
  const cr = Math.cos(r);
  const sr = Math.sin(r);
  const tx = north[0] * cp + east[0] * sp;
  const ty = north[1] * cp + east[1] * sp;
  const tz = north[2] * cp + east[2] * sp;
  return fromUnitVector(start[0] * cr + tx * sr, start[1] * cr + ty * sr, start[2] * cr + tz * sr);
}
