/**
 * Angle units and wrapping.
 *
 * Public APIs of `src/geom` take and return angles in **degrees** (sky positions,
 * rotations) or **arcseconds** (pixel scales); radians are used only inside the
 * formulas. Everything is float64.
 */

/** Degrees per radian (180 / pi). */
export const DEG_PER_RAD = 180 / Math.PI;
/** Radians per degree (pi / 180). */
export const RAD_PER_DEG = Math.PI / 180;
/** Arcseconds per degree (3600). */
export const ARCSEC_PER_DEG = 3600;

/** Degrees -> radians. */
export function degToRad(deg: number): number {
  return deg * RAD_PER_DEG;
}

/** Radians -> degrees. */
export function radToDeg(rad: number): number {
  return rad * DEG_PER_RAD;
}

/** Arcseconds -> degrees. */
export function arcsecToDeg(arcsec: number): number {
  return arcsec / ARCSEC_PER_DEG;
}

/** Degrees -> arcseconds. */
export function degToArcsec(deg: number): number {
  return deg * ARCSEC_PER_DEG;
}

/**
 * Wrap a longitude (e.g. RA) into [0, 360) degrees.
 *
 * A tiny negative input such as -1e-17 would round to exactly 360 after adding 360,
 * so the result is folded back to 0 in that case: callers can rely on `< 360`.
 */
export function wrapDeg360(deg: number): number {
  let w = deg % 360;
  if (w < 0) w += 360;
  return w >= 360 ? 0 : w;
}

/** Wrap an angle into [-180, 180) degrees, e.g. an RA difference. */
export function wrapDeg180(deg: number): number {
  const w = wrapDeg360(deg + 180) - 180;
  return w;
}

/** Wrap an angle in radians into [0, 2 pi). */
export function wrapRad2Pi(rad: number): number {
  const twoPi = 2 * Math.PI;
  let w = rad % twoPi;
  if (w < 0) w += twoPi;
  return w >= twoPi ? 0 : w;
}
