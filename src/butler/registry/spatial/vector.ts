/**
 * Unit vectors on the celestial sphere. x points to (ra 0, dec 0), y to (ra 90, dec 0),
 * z to the north pole. Angles in the public API are degrees.
 */

/** A 3-vector; unit length where a point on the sphere is meant. */
export type Vec3 = readonly [number, number, number];

const RAD = Math.PI / 180;

/** Unit vector of (ra, dec) in degrees. */
export function fromRaDec(ra: number, dec: number): Vec3 {
  const a = ra * RAD;
  const d = dec * RAD;
  const cd = Math.cos(d);
  return [cd * Math.cos(a), cd * Math.sin(a), Math.sin(d)];
}

/** (ra, dec) in degrees of a vector (need not be normalized); ra in [0, 360). */
export function toRaDec(v: Vec3): [number, number] {
  const [x, y, z] = v;
  let ra = x === 0 && y === 0 ? 0 : Math.atan2(y, x) / RAD;
  if (ra < 0) ra += 360;
  if (ra >= 360) ra -= 360;
  return [ra, Math.atan2(z, Math.hypot(x, y)) / RAD];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function norm(a: Vec3): number {
  return Math.hypot(a[0], a[1], a[2]);
}

/** `a` scaled to unit length (the zero vector stays zero). */
export function normalize(a: Vec3): Vec3 {
  const n = norm(a);
  return n === 0 ? [0, 0, 0] : [a[0] / n, a[1] / n, a[2] / n];
}

export function add(a: Vec3, b: Vec3): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

export function scale(a: Vec3, s: number): Vec3 {
  return [a[0] * s, a[1] * s, a[2] * s];
}

export function negate(a: Vec3): Vec3 {
  return [-a[0], -a[1], -a[2]];
}

/** Angle between two vectors, radians in [0, pi] (atan2 form: accurate at all angles). */
export function angleBetween(a: Vec3, b: Vec3): number {
  return Math.atan2(norm(cross(a, b)), dot(a, b));
}
