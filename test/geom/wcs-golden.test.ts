import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { headerFromCards } from '../../src/geom/fits-header.ts';
import { angularSeparation } from '../../src/geom/sphere-point.ts';
import { Wcs } from '../../src/geom/wcs.ts';

/** One fixture written by scripts/make-wcs-fixtures.py (astropy, origin 0). */
interface WcsFixture {
  name: string;
  description: string;
  header: Array<[string, string | number | boolean]>;
  pixToSky: { x: number[]; y: number[]; ra: number[]; dec: number[] };
  skyToPix: { ra: number[]; dec: number[]; x: number[]; y: number[] };
}

const dir = new URL('../../fixtures/wcs/', import.meta.url);
const names = (
  JSON.parse(readFileSync(new URL('index.json', dir), 'utf8')) as { fixtures: string[] }
).fixtures;
const fixtures = names.map(
  (name) => JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as WcsFixture,
);

function load(f: WcsFixture): Wcs {
  return Wcs.fromFitsHeader(headerFromCards(f.header.map(([key, value]) => ({ key, value }))));
}

/** Worst errors per fixture, printed once so the accuracy is on record in the test log. */
const report: string[] = [];

describe('Wcs against astropy golden vectors', () => {
  it('has the expected fixture set (TAN variants and SIP orders 2-5)', () => {
    expect(names.length).toBeGreaterThanOrEqual(15);
    const sipOrders = new Set(
      fixtures
        .map((f) => f.header.find(([k]) => k === 'A_ORDER')?.[1])
        .filter((v): v is number => typeof v === 'number'),
    );
    expect([...sipOrders].sort()).toEqual([2, 3, 4, 5]);
  });

  for (const f of fixtures) {
    describe(f.name, () => {
      const wcs = load(f);

      it('reads the header as astropy does (SIP and AP/BP presence)', () => {
        const hasA = f.header.some(([k]) => k === 'A_ORDER');
        expect(wcs.hasSip).toBe(hasA);
        // Fixtures named *-inv carry fitted AP/BP; the others make Newton start from
        // the linear solution.
        expect(wcs.hasSipInverse).toBe(f.name.endsWith('-inv'));
      });

      it('pixel -> sky agrees with all_pix2world to < 1e-9 deg', () => {
        const { x, y, ra, dec } = f.pixToSky;
        let worst = 0;
        for (let i = 0; i < x.length; i++) {
          const s = wcs.pixelToSky(x[i]!, y[i]!);
          const sep = angularSeparation(s.ra, s.dec, ra[i]!, dec[i]!);
          worst = Math.max(worst, sep);
          expect(s.ra).toBeGreaterThanOrEqual(0);
          expect(s.ra).toBeLessThan(360);
        }
        report.push(`${f.name}: pix->sky ${worst.toExponential(2)} deg`);
        expect(worst).toBeLessThan(1e-9);
      });

      it('array pixel -> sky equals the scalar form exactly', () => {
        const xs = Float64Array.from(f.pixToSky.x);
        const ys = Float64Array.from(f.pixToSky.y);
        const many = wcs.pixelToSkyMany(xs, ys);
        for (let i = 0; i < xs.length; i += 7) {
          const s = wcs.pixelToSky(xs[i]!, ys[i]!);
          expect(many.ra[i]).toBe(s.ra);
          expect(many.dec[i]).toBe(s.dec);
        }
      });

      it('sky -> pixel agrees with all_world2pix to < 1e-6 px', () => {
        const { ra, dec, x, y } = f.skyToPix;
        const out = wcs.skyToPixelMany(Float64Array.from(ra), Float64Array.from(dec));
        let worst = 0;
        for (let i = 0; i < ra.length; i++) {
          worst = Math.max(worst, Math.hypot(out.x[i]! - x[i]!, out.y[i]! - y[i]!));
        }
        report.push(`${f.name}: sky->pix ${worst.toExponential(2)} px`);
        expect(worst).toBeLessThan(1e-6);
      });

      it('round-trips pixel -> sky -> pixel to < 1e-8 px over the CCD', () => {
        const { x, y } = f.pixToSky;
        let worst = 0;
        for (let i = 0; i < x.length; i++) {
          const s = wcs.pixelToSky(x[i]!, y[i]!);
          const p = wcs.skyToPixel(s.ra, s.dec);
          worst = Math.max(worst, Math.hypot(p.x - x[i]!, p.y - y[i]!));
        }
        report.push(`${f.name}: round trip ${worst.toExponential(2)} px`);
        expect(worst).toBeLessThan(1e-8);
      });

      it('survives toFitsCards -> fromFitsHeader unchanged', () => {
        const again = Wcs.fromFitsHeader(headerFromCards(wcs.toFitsCards()));
        const { x, y } = f.pixToSky;
        for (let i = 0; i < x.length; i += 5) {
          const a = wcs.pixelToSky(x[i]!, y[i]!);
          const b = again.pixelToSky(x[i]!, y[i]!);
          expect(angularSeparation(a.ra, a.dec, b.ra, b.dec)).toBeLessThan(1e-13);
        }
      });
    });
  }

  it('prints the accuracy summary', () => {
    console.log(report.join('\n'));
    expect(report.length).toBe(3 * fixtures.length);
  });
});
