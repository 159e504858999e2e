import { describe, expect, it } from 'vitest';
import { Box2I } from '../../src/geom/box.ts';
import { WcsError } from '../../src/geom/errors.ts';
import { type FitsHeaderValue, headerFromCards } from '../../src/geom/fits-header.ts';
import { angularSeparation, positionAngle } from '../../src/geom/sphere-point.ts';
import { Wcs } from '../../src/geom/wcs.ts';

const TAN_CARDS: Array<{ key: string; value: FitsHeaderValue }> = [
  { key: 'CTYPE1', value: 'RA---TAN' },
  { key: 'CTYPE2', value: 'DEC--TAN' },
  { key: 'CRPIX1', value: 2048.5 },
  { key: 'CRPIX2', value: 1024.5 },
  { key: 'CRVAL1', value: 150 },
  { key: 'CRVAL2', value: 2 },
  { key: 'CD1_1', value: -5.5e-5 },
  { key: 'CD1_2', value: 0 },
  { key: 'CD2_1', value: 0 },
  { key: 'CD2_2', value: 5.5e-5 },
];

function withCards(
  changes: Record<string, FitsHeaderValue | undefined>,
  base = TAN_CARDS,
): ReturnType<typeof headerFromCards> {
  const cards = base
    .filter((c) => !(c.key in changes))
    .concat(
      Object.entries(changes)
        .filter((e): e is [string, FitsHeaderValue] => e[1] !== undefined)
        .map(([key, value]) => ({ key, value })),
    );
  return headerFromCards(cards);
}

function expectWcsError(fn: () => unknown, code: string, key?: string): WcsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WcsError);
    const err = e as WcsError;
    expect(err.code).toBe(code);
    if (key !== undefined) expect(err.key).toBe(key);
    expect(err.message.length).toBeGreaterThan(20);
    return err;
  }
  throw new Error(`expected WcsError ${code}`);
}

/** A realistic order-3 SIP distortion around CRPIX (2048, 2048), pixels. */
const SIP3 = {
  a: {
    order: 3,
    coefficients: [
      [0, 0, 2.1e-7, -1.5e-11],
      [0, -3.2e-7, 4.4e-11, 0],
      [5.0e-7, 2.7e-11, 0, 0],
      [-6.1e-11, 0, 0, 0],
    ],
  },
  b: {
    order: 3,
    coefficients: [
      [0, 0, -4.0e-7, 3.3e-11],
      [0, 1.9e-7, -2.2e-11, 0],
      [-2.5e-7, 5.1e-11, 0, 0],
      [1.7e-11, 0, 0, 0],
    ],
  },
};

describe('Wcs from FITS headers', () => {
  it('converts 1-based CRPIX to 0-based crpix and maps CRPIX to CRVAL', () => {
    const wcs = Wcs.fromFitsHeader(headerFromCards(TAN_CARDS));
    expect(wcs.crpix).toEqual([2047.5, 1023.5]);
    expect(wcs.crval).toEqual([150, 2]);
    expect(wcs.lonpole).toBe(180);
    expect(wcs.radesys).toBe('ICRS');
    expect(wcs.equinox).toBeUndefined();
    expect(wcs.hasSip).toBe(false);
    const c = wcs.pixelToSky(2047.5, 1023.5);
    expect(c.ra).toBeCloseTo(150, 12);
    expect(c.dec).toBeCloseTo(2, 12);
    const p = wcs.skyToPixel(150, 2);
    expect(p.x).toBeCloseTo(2047.5, 9);
    expect(p.y).toBeCloseTo(1023.5, 9);
    // East is left: increasing x decreases RA.
    expect(wcs.pixelToSky(2147.5, 1023.5).ra).toBeLessThan(150);
  });

  it('accepts integer cards as bigint and PC + CDELT, CROTA2, CDELT alone', () => {
    const big = Wcs.fromFitsHeader(withCards({ CRPIX1: 2049n, CRVAL2: 2n }));
    expect(big.crpix[0]).toBe(2048);
    const noCd = TAN_CARDS.filter((c) => !c.key.startsWith('CD'));
    const pc = Wcs.fromFitsHeader(
      withCards(
        { CDELT1: -2e-4, CDELT2: 3e-4, PC1_1: 0.8, PC1_2: -0.6, PC2_1: 0.6, PC2_2: 0.8 },
        noCd,
      ),
    );
    expect(pc.cd[0][0]).toBeCloseTo(-1.6e-4, 18);
    expect(pc.cd[0][1]).toBeCloseTo(1.2e-4, 18);
    expect(pc.cd[1][0]).toBeCloseTo(1.8e-4, 18);
    expect(pc.cd[1][1]).toBeCloseTo(2.4e-4, 18);
    const rot = Wcs.fromFitsHeader(withCards({ CDELT1: -1e-4, CDELT2: 1e-4, CROTA2: 30 }, noCd));
    const c30 = Math.cos(Math.PI / 6);
    expect(rot.cd[0][0]).toBeCloseTo(-1e-4 * c30, 18);
    expect(rot.cd[0][1]).toBeCloseTo(-1e-4 * 0.5, 18);
    expect(rot.cd[1][0]).toBeCloseTo(-1e-4 * 0.5, 18);
    expect(rot.cd[1][1]).toBeCloseTo(1e-4 * c30, 18);
    const diag = Wcs.fromFitsHeader(withCards({ CDELT1: -1e-4, CDELT2: 1e-4 }, noCd));
    expect(diag.cd).toEqual([
      [-1e-4, 0],
      [0, 1e-4],
    ]);
  });

  it('records RADESYS / EQUINOX with the FITS defaults', () => {
    expect(Wcs.fromFitsHeader(withCards({ RADESYS: 'FK5', EQUINOX: 2000 })).radesys).toBe('FK5');
    expect(Wcs.fromFitsHeader(withCards({ RADECSYS: 'FK5' })).equinox).toBe(2000);
    const implied = Wcs.fromFitsHeader(withCards({ EQUINOX: 2000 }));
    expect(implied.radesys).toBe('FK5');
    expect(implied.equinox).toBe(2000);
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ RADESYS: 'FK4' })),
      'WCS_UNSUPPORTED_FRAME',
      'RADESYS',
    );
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ EQUINOX: 1950 })),
      'WCS_UNSUPPORTED_FRAME',
      'EQUINOX',
    );
  });

  it('rejects missing, non-numeric and NaN keys, naming the key', () => {
    for (const key of ['CRPIX1', 'CRPIX2', 'CRVAL1', 'CRVAL2', 'CTYPE1', 'CTYPE2']) {
      expectWcsError(
        () => Wcs.fromFitsHeader(withCards({ [key]: undefined })),
        'WCS_MISSING_KEY',
        key,
      );
    }
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ CRVAL1: Number.NaN })),
      'WCS_BAD_KEY',
      'CRVAL1',
    );
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ CRPIX2: '12.5' })),
      'WCS_BAD_KEY',
      'CRPIX2',
    );
    expectWcsError(() => Wcs.fromFitsHeader(withCards({ CD2_2: true })), 'WCS_BAD_KEY', 'CD2_2');
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ CD1_2: { re: 1, im: 0 } })),
      'WCS_BAD_KEY',
      'CD1_2',
    );
    expectWcsError(() => Wcs.fromFitsHeader(withCards({ CRVAL2: 91 })), 'WCS_BAD_KEY', 'CRVAL2');
    expectWcsError(() => Wcs.fromFitsHeader(withCards({ CUNIT1: 'rad' })), 'WCS_BAD_KEY', 'CUNIT1');
    const noCd = TAN_CARDS.filter((c) => !c.key.startsWith('CD'));
    expectWcsError(() => Wcs.fromFitsHeader(headerFromCards(noCd)), 'WCS_MISSING_KEY', 'CD1_1');
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ CDELT1: 1e-4 }, noCd)),
      'WCS_MISSING_KEY',
      'CDELT2',
    );
  });

  it('rejects a singular CD matrix', () => {
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ CD1_1: 1e-4, CD1_2: 2e-4, CD2_1: 0.5e-4, CD2_2: 1e-4 })),
      'WCS_SINGULAR_CD',
      'CD1_1',
    );
    expectWcsError(() => Wcs.fromFitsHeader(withCards({ CD2_2: 0 })), 'WCS_SINGULAR_CD');
  });

  it('rejects unsupported projections and axis layouts', () => {
    const e = expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ CTYPE1: 'RA---TPV', CTYPE2: 'DEC--TPV' })),
      'WCS_UNSUPPORTED_PROJECTION',
      'CTYPE1',
    );
    expect(e.message).toContain('TPV');
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ CTYPE1: 'RA---SIN', CTYPE2: 'DEC--SIN' })),
      'WCS_UNSUPPORTED_PROJECTION',
      'CTYPE1',
    );
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ CTYPE1: 'DEC--TAN', CTYPE2: 'RA---TAN' })),
      'WCS_UNSUPPORTED_PROJECTION',
      'CTYPE1',
    );
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ CTYPE1: 'GLON-TAN', CTYPE2: 'GLAT-TAN' })),
      'WCS_UNSUPPORTED_PROJECTION',
      'CTYPE1',
    );
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ CTYPE1: 'RA---TAN-SIP' })),
      'WCS_BAD_KEY',
      'CTYPE2',
    );
  });

  it('reads SIP, needs A_ORDER for -SIP, and ignores SIP cards without -SIP', () => {
    const sipCards = {
      CTYPE1: 'RA---TAN-SIP',
      CTYPE2: 'DEC--TAN-SIP',
      A_ORDER: 2,
      B_ORDER: 2,
      A_2_0: 1e-6,
      B_0_2: -2e-6,
      A_1_1: 3e-7,
    };
    const wcs = Wcs.fromFitsHeader(withCards(sipCards));
    expect(wcs.hasSip).toBe(true);
    expect(wcs.hasSipInverse).toBe(false);
    expect(wcs.sip?.a.coefficients[2]?.[0]).toBe(1e-6);
    expect(wcs.sip?.b.coefficients[0]?.[2]).toBe(-2e-6);
    // A_2_0 moves pixel (u, v) = (1000, 0) by 1e-6 * 1e6 = 1 pixel in x before the CD.
    const distorted = wcs.pixelToSky(2047.5 + 1000, 1023.5);
    const linear = Wcs.fromFitsHeader(headerFromCards(TAN_CARDS)).pixelToSky(2047.5 + 1001, 1023.5);
    expect(angularSeparation(distorted.ra, distorted.dec, linear.ra, linear.dec)).toBeLessThan(
      1e-12,
    );
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ ...sipCards, A_ORDER: undefined })),
      'WCS_MISSING_KEY',
      'A_ORDER',
    );
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ ...sipCards, B_ORDER: 2.5 })),
      'WCS_BAD_KEY',
      'B_ORDER',
    );
    expectWcsError(
      () => Wcs.fromFitsHeader(withCards({ ...sipCards, A_1_1: Number.POSITIVE_INFINITY })),
      'WCS_BAD_KEY',
      'A_1_1',
    );
    const plain = Wcs.fromFitsHeader(withCards({ A_ORDER: 2, B_ORDER: 2, A_2_0: 1e-6 }));
    expect(plain.hasSip).toBe(false);
  });
});

describe('Wcs constructors and derived quantities', () => {
  it('fromScaleRotation matches LSST makeCdMatrix', () => {
    const s = 0.2 / 3600;
    const wcs = Wcs.fromScaleRotation({ crpix: [0, 0], crval: [10, 20], scale: 0.2 });
    expect(wcs.cd[0][0]).toBeCloseTo(-s, 20);
    expect(wcs.cd[1][1]).toBeCloseTo(s, 20);
    expect(wcs.cd[0][1]).toBe(0);
    const flipped = Wcs.fromScaleRotation({
      crpix: [0, 0],
      crval: [10, 20],
      scale: 0.2,
      flipX: true,
    });
    expect(flipped.cd[0][0]).toBeCloseTo(s, 20);
    const rotated = Wcs.fromScaleRotation({
      crpix: [100, 100],
      crval: [10, 20],
      scale: 0.2,
      rotation: 30,
    });
    // +y of the image points at position angle 30 (north through east).
    const a = rotated.pixelToSky(100, 100);
    const b = rotated.pixelToSky(100, 200);
    expect(positionAngle(a.ra, a.dec, b.ra, b.dec)).toBeCloseTo(30, 6);
    expect(rotated.pixelScale()).toBeCloseTo(0.2, 12);
    expectWcsError(
      () => Wcs.fromScaleRotation({ crpix: [0, 0], crval: [0, 0], scale: -1 }),
      'WCS_BAD_ARGUMENT',
      'scale',
    );
  });

  it('tan() validates its parameters', () => {
    expectWcsError(
      () =>
        Wcs.tan({
          crpix: [0, Number.NaN],
          crval: [0, 0],
          cd: [
            [1e-4, 0],
            [0, 1e-4],
          ],
        }),
      'WCS_BAD_KEY',
      'CRPIX2',
    );
    expectWcsError(
      () =>
        Wcs.tan({
          crpix: [0, 0],
          crval: [0, 0],
          cd: [
            [1e-4, 1e-4],
            [1e-4, 1e-4],
          ],
        }),
      'WCS_SINGULAR_CD',
    );
  });

  it('jacobian equals CD at the reference pixel and matches finite differences with SIP', () => {
    const tan = Wcs.fromFitsHeader(withCards({ CD1_2: 1e-5, CD2_1: -2e-5 }));
    const j0 = tan.jacobian(tan.crpix[0], tan.crpix[1]);
    for (let i = 0; i < 2; i++) {
      for (let k = 0; k < 2; k++) expect(j0[i]![k]!).toBeCloseTo(tan.cd[i]![k]!, 17);
    }
    const sip = Wcs.tanSip({
      crpix: [2048, 2048],
      crval: [35, 70],
      cd: [
        [-5.0e-5, 1.0e-5],
        [1.2e-5, 5.3e-5],
      ],
      sip: SIP3,
    });
    for (const [x, y] of [
      [0, 0],
      [4095, 100],
      [2500, 3900],
    ] as const) {
      const j = sip.jacobian(x, y);
      const h = 0.01;
      const c = sip.pixelToSky(x, y);
      const cosd = Math.cos((c.dec * Math.PI) / 180);
      const dRa = (a: number, b: number) => (((a - b + 540) % 360) - 180) * cosd;
      const px = [sip.pixelToSky(x + h, y), sip.pixelToSky(x - h, y)] as const;
      const py = [sip.pixelToSky(x, y + h), sip.pixelToSky(x, y - h)] as const;
      const num = [
        [dRa(px[0].ra, px[1].ra) / (2 * h), dRa(py[0].ra, py[1].ra) / (2 * h)],
        [(px[0].dec - px[1].dec) / (2 * h), (py[0].dec - py[1].dec) / (2 * h)],
      ];
      for (let i = 0; i < 2; i++) {
        for (let k = 0; k < 2; k++) {
          expect(Math.abs(j[i]![k]! - num[i]![k]!)).toBeLessThan(1e-10);
        }
      }
    }
  });

  it('pixelScale is the local scale: 0.2 arcsec at CRPIX, smaller off-axis for TAN', () => {
    const wcs = Wcs.fromScaleRotation({ crpix: [0, 0], crval: [0, 0], scale: 0.2 });
    expect(wcs.pixelScale()).toBeCloseTo(0.2, 13);
    // At angle theta off-axis TAN's area scale is cos^3(theta): sqrt -> cos^1.5.
    const far = 2e5; // pixels: 40000 arcsec = 11.1 deg off axis.
    const theta = Math.atan((far * 0.2) / 3600 / (180 / Math.PI));
    expect(wcs.pixelScale(far, 0)).toBeCloseTo(0.2 * Math.cos(theta) ** 1.5, 12);
  });

  it('skyPolygon returns the outer pixel corners in order', () => {
    const wcs = Wcs.fromScaleRotation({ crpix: [2047.5, 2047.5], crval: [150, 2], scale: 0.2 });
    const poly = wcs.skyPolygon(new Box2I(0, 0, 4096, 4096));
    expect(poly).toHaveLength(4);
    const expected = [
      [-0.5, -0.5],
      [4095.5, -0.5],
      [4095.5, 4095.5],
      [-0.5, 4095.5],
    ] as const;
    for (let i = 0; i < 4; i++) {
      const p = wcs.skyToPixel(poly[i]!.ra, poly[i]!.dec);
      expect(p.x).toBeCloseTo(expected[i]![0], 8);
      expect(p.y).toBeCloseTo(expected[i]![1], 8);
    }
    // Diagonal of a 4096-pixel square at 0.2"/px: 4096 * 0.2 * sqrt(2) arcsec.
    const diag = angularSeparation(poly[0]!.ra, poly[0]!.dec, poly[2]!.ra, poly[2]!.dec);
    expect(diag * 3600).toBeCloseTo(4096 * 0.2 * Math.SQRT2, 2);
    expectWcsError(() => wcs.skyPolygon(new Box2I(0, 0, 0, 5)), 'WCS_BAD_ARGUMENT');
  });

  it('gives NaN beyond the projection horizon', () => {
    const wcs = Wcs.fromScaleRotation({ crpix: [0, 0], crval: [0, 0], scale: 0.2 });
    const p = wcs.skyToPixel(180, 0);
    expect(p.x).toBeNaN();
    expect(p.y).toBeNaN();
    expect(wcs.skyToPixel(90, 0).x).toBeNaN();
    expect(Number.isFinite(wcs.skyToPixel(89, 0).x)).toBe(true);
    const sip = Wcs.tanSip({ crpix: [0, 0], crval: [0, 0], cd: wcs.cd, sip: SIP3 });
    expect(sip.skyToPixel(Number.NaN, 0).x).toBeNaN();
    expect(sip.skyToPixel(180, 0).y).toBeNaN();
    expect(sip.pixelToSky(Number.NaN, 1).ra).toBeNaN();
  });

  it('SIP inverse converges from AP/BP or from the linear guess, else reports WCS_NO_CONVERGENCE', () => {
    const base = {
      crpix: [2048, 2048] as const,
      crval: [35, -70] as const,
      cd: [
        [-5.5e-5, 0],
        [0, 5.5e-5],
      ] as const,
    };
    const noInverse = Wcs.tanSip({ ...base, sip: SIP3 });
    // A deliberately poor AP/BP (negated forward terms, order 3): Newton must fix it.
    const neg = (m: typeof SIP3.a) => ({
      order: m.order,
      coefficients: m.coefficients.map((r) => r.map((c) => -c)),
    });
    const withInverse = Wcs.tanSip({ ...base, sip: { ...SIP3, ap: neg(SIP3.a), bp: neg(SIP3.b) } });
    expect(withInverse.hasSipInverse).toBe(true);
    for (const w of [noInverse, withInverse]) {
      for (const [x, y] of [
        [0, 0],
        [4095, 4095],
        [-300, 2000],
        [1000, 4400],
      ] as const) {
        const s = w.pixelToSky(x, y);
        const p = w.skyToPixel(s.ra, s.dec);
        expect(Math.hypot(p.x - x, p.y - y)).toBeLessThan(1e-8);
      }
    }
    // u + 1e-4 u^2 never goes below -2500 pixels: a sky position whose linear pixel offset
    // is U = -3000 has no preimage at all, so Newton cannot converge.
    const noRoot = Wcs.tanSip({
      ...base,
      sip: {
        a: {
          order: 2,
          coefficients: [
            [0, 0, 0],
            [0, 0, 0],
            [1e-4, 0, 0],
          ],
        },
        b: {
          order: 2,
          coefficients: [
            [0, 0, 0],
            [0, 0, 0],
            [0, 0, 0],
          ],
        },
      },
    });
    const onChip = noRoot.pixelToSky(1500, 2048);
    expect(noRoot.skyToPixel(onChip.ra, onChip.dec).x).toBeCloseTo(1500, 8);
    const beyond = Wcs.tan(base).pixelToSky(2048 - 3000, 2048);
    const err = expectWcsError(
      () => noRoot.skyToPixel(beyond.ra, beyond.dec),
      'WCS_NO_CONVERGENCE',
    );
    expect(err.message).toContain('far outside');
    expectWcsError(
      () =>
        noRoot.skyToPixelMany(
          Float64Array.of(onChip.ra, beyond.ra),
          Float64Array.of(onChip.dec, beyond.dec),
        ),
      'WCS_NO_CONVERGENCE',
    );
  });

  it('withShiftedPixelOrigin moves pixels, not the sky', () => {
    const wcs = Wcs.tanSip({
      crpix: [2048, 2048],
      crval: [35, 70],
      cd: [
        [-5.5e-5, 0],
        [0, 5.5e-5],
      ],
      sip: SIP3,
    });
    const shifted = wcs.withShiftedPixelOrigin(-100, 250);
    const a = wcs.pixelToSky(300, 400);
    const b = shifted.pixelToSky(200, 650);
    expect(angularSeparation(a.ra, a.dec, b.ra, b.dec)).toBeLessThan(1e-14);
  });

  it('toFitsCards writes 1-based CRPIX, units, frame and SIP orders', () => {
    const wcs = Wcs.tanSip({
      crpix: [99, 199],
      crval: [10, 20],
      cd: [
        [-5.5e-5, 0],
        [0, 5.5e-5],
      ],
      sip: SIP3,
      radesys: 'FK5',
    });
    const cards = new Map(wcs.toFitsCards().map((c) => [c.key, c.value]));
    expect(cards.get('CRPIX1')).toBe(100);
    expect(cards.get('CRPIX2')).toBe(200);
    expect(cards.get('CTYPE1')).toBe('RA---TAN-SIP');
    expect(cards.get('CTYPE2')).toBe('DEC--TAN-SIP');
    expect(cards.get('CUNIT1')).toBe('deg');
    expect(cards.get('RADESYS')).toBe('FK5');
    expect(cards.get('EQUINOX')).toBe(2000);
    expect(cards.get('A_ORDER')).toBe(3);
    expect(cards.get('A_3_0')).toBe(-6.1e-11);
    expect(cards.get('B_0_2')).toBe(-4.0e-7);
    expect(cards.has('A_0_0')).toBe(false);
    expect(cards.has('AP_ORDER')).toBe(false);
    for (const c of wcs.toFitsCards()) expect(c.key.length).toBeLessThanOrEqual(8);
  });

  it('array forms check lengths', () => {
    const wcs = Wcs.fromScaleRotation({ crpix: [0, 0], crval: [0, 0], scale: 0.2 });
    expectWcsError(
      () => wcs.pixelToSkyMany(new Float64Array(3), new Float64Array(2)),
      'WCS_BAD_ARGUMENT',
    );
  });
});
