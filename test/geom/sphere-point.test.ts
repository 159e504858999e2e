import { describe, expect, it } from 'vitest';
import {
  arcsecToDeg,
  degToArcsec,
  degToRad,
  radToDeg,
  wrapDeg180,
  wrapDeg360,
  wrapRad2Pi,
} from '../../src/geom/angle.ts';
import {
  angularSeparation,
  fromUnitVector,
  offsetPoint,
  positionAngle,
  separation,
  unitVector,
} from '../../src/geom/sphere-point.ts';

describe('angle helpers', () => {
  it('converts units', () => {
    expect(degToRad(180)).toBe(Math.PI);
    expect(radToDeg(Math.PI / 2)).toBe(90);
    expect(arcsecToDeg(3600)).toBe(1);
    expect(degToArcsec(0.5)).toBe(1800);
  });

  it('wraps into [0, 360) and [-180, 180)', () => {
    expect(wrapDeg360(-10)).toBe(350);
    expect(wrapDeg360(720.5)).toBe(0.5);
    expect(wrapDeg360(360)).toBe(0);
    // -1e-17 + 360 rounds to 360; the result must still be < 360.
    expect(wrapDeg360(-1e-17)).toBe(0);
    expect(wrapDeg180(190)).toBe(-170);
    expect(wrapDeg180(-180)).toBe(-180);
    expect(wrapDeg180(179)).toBe(179);
    expect(wrapRad2Pi(-Math.PI / 2)).toBeCloseTo((3 * Math.PI) / 2, 15);
  });
});

describe('sphere points', () => {
  it('unit vectors round-trip, including the poles', () => {
    for (const [ra, dec] of [
      [0, 0],
      [123.456, -33.3],
      [359.9999, 89.9999],
      [10, -90],
    ] as const) {
      const [x, y, z] = unitVector(ra, dec);
      expect(Math.hypot(x, y, z)).toBeCloseTo(1, 15);
      const p = fromUnitVector(x, y, z);
      expect(p.dec).toBeCloseTo(dec, 12);
      if (Math.abs(dec) < 90) expect(p.ra).toBeCloseTo(ra, 9);
    }
    expect(fromUnitVector(0, 0, 5)).toEqual({ ra: 0, dec: 90 });
  });

  it('angular separation is accurate for tiny, right-angle and antipodal separations', () => {
    expect(angularSeparation(10, 20, 10, 20)).toBe(0);
    // 1 milliarcsec along a meridian.
    expect(angularSeparation(10, 0, 10, 1 / 3.6e6) / (1 / 3.6e6)).toBeCloseTo(1, 12);
    // 1 mas along RA at dec 60: cos(60) = 0.5.
    const dRa = 2 / 3.6e6;
    expect(angularSeparation(10, 60, 10 + dRa, 60) / (1 / 3.6e6)).toBeCloseTo(1, 6);
    expect(angularSeparation(0, 0, 90, 0)).toBeCloseTo(90, 13);
    expect(angularSeparation(0, 0, 180, 0)).toBe(180);
    expect(angularSeparation(0, 89, 180, 89)).toBeCloseTo(2, 12);
    expect(angularSeparation(359.5, 0, 0.5, 0)).toBeCloseTo(1, 12);
    expect(separation({ ra: 0, dec: -90 }, { ra: 45, dec: 90 })).toBe(180);
  });

  it('position angle is measured north through east', () => {
    expect(positionAngle(10, 0, 10, 1)).toBeCloseTo(0, 12);
    expect(positionAngle(10, 0, 11, 0)).toBeCloseTo(90, 12);
    expect(positionAngle(10, 0, 10, -1)).toBeCloseTo(180, 12);
    expect(positionAngle(10, 0, 9, 0)).toBeCloseTo(270, 12);
    expect(positionAngle(10, 5, 10, 5)).toBe(0);
  });

  it('offsetPoint inverts separation + position angle', () => {
    const cases = [
      [150, 2, 33, 0.5],
      [0.1, -45, 250, 3],
      [200, 88, 10, 5],
      [45, -10, 90, 120],
    ] as const;
    for (const [ra, dec, pa, dist] of cases) {
      const p = offsetPoint(ra, dec, pa, dist);
      expect(angularSeparation(ra, dec, p.ra, p.dec)).toBeCloseTo(dist, 11);
      expect(positionAngle(ra, dec, p.ra, p.dec)).toBeCloseTo(pa, 9);
    }
    const east = offsetPoint(0, 0, 90, 10);
    expect(east.ra).toBeCloseTo(10, 12);
    expect(east.dec).toBeCloseTo(0, 12);
  });
});
