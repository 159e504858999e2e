import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Header, readFits, writeFits } from '../../src/fits/index.ts';
import { Box2I } from '../../src/geom/box.ts';
import { Wcs } from '../../src/geom/wcs.ts';
import { Exposure } from '../../src/image/exposure.ts';
import { type ExposureErrorCode, isExposureError } from '../../src/image/exposure-errors.ts';
import {
  exposureToBytes,
  readExposure,
  readPlainImageWithWeight,
  writeExposure,
} from '../../src/image/exposure-fits.ts';
import { Mask, MaskPlaneDict } from '../../src/image/mask.ts';
import { MaskedImage } from '../../src/image/masked-image.ts';
import { PhotoCalib } from '../../src/image/photo-calib.ts';
import { DoubleGaussianPsf } from '../../src/image/psf.ts';
import type { VisitInfo } from '../../src/image/visit-info.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exposure-fits-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const visitInfo: VisitInfo = {
  visit: 2024110800123,
  detector: 94,
  band: 'r',
  physicalFilter: 'r_57',
  exposureTime: 30,
  mjd: 60622.123456789,
  instrument: 'LSSTCam',
  boresightRa: 53.1,
  boresightDec: -28.2,
  rotationAngle: 12.5,
};

function makeWcs(): Wcs {
  return Wcs.tanSip({
    crpix: [1000.5, -300.25],
    crval: [53.1, -28.2],
    cd: [
      [-5.5e-5, 1.2e-6],
      [1.1e-6, 5.5e-5],
    ],
    sip: {
      a: { order: 2, coefficients: [[0, 0, 2e-7], [0, -3e-7], [4e-7]] },
      b: { order: 2, coefficients: [[0, 0, -1e-7], [0, 2e-7], [1e-7]] },
    },
  });
}

/** A 37 x 23 exposure at xy0 (100, 200) with a recognizable pattern in every plane. */
function makeExposure(): Exposure {
  const planes = new MaskPlaneDict().withPlane('STREAK');
  const metadata = new Header();
  metadata.set('OBSERVER', 'sim', 'who');
  metadata.set('SEEING', 0.71, '[arcsec]');
  metadata.addHistory('made by a test');
  const exp = Exposure.create(37, 23, {
    xy0: { x: 100, y: 200 },
    wcs: makeWcs(),
    psf: new DoubleGaussianPsf(21, 21, 1.6, 3.5, 0.1),
    photoCalib: new PhotoCalib(0.57, 0.003),
    visitInfo,
    metadata,
  });
  // Re-create the mask with the extra plane.
  const mi = exp.maskedImage;
  const withPlanes = exp.withMaskedImage(
    new MaskedImage(mi.image, new Mask(mi.width, mi.height, { xy0: mi.xy0, planes }), mi.variance),
  );
  const n = 37 * 23;
  for (let i = 0; i < n; i++) {
    withPlanes.image.data[i] = Math.sin(i * 0.37) * 100 + i * 1e-3;
    withPlanes.variance.data[i] = 10 + (i % 17);
    withPlanes.mask.data[i] =
      i % 5 === 0 ? planes.bitMask('STREAK') : i % 7 === 0 ? planes.bitMask('SAT', 'CR') : 0;
  }
  withPlanes.image.data[5] = Number.NaN;
  withPlanes.variance.data[6] = Number.POSITIVE_INFINITY;
  return withPlanes;
}

function expectSameExposure(a: Exposure, b: Exposure): void {
  expect(b.xy0).toEqual(a.xy0);
  expect(b.width).toBe(a.width);
  expect(b.height).toBe(a.height);
  expect(Array.from(b.image.data)).toEqual(Array.from(a.image.data));
  expect(Array.from(b.variance.data)).toEqual(Array.from(a.variance.data));
  expect(Array.from(b.mask.data)).toEqual(Array.from(a.mask.data));
  expect(b.mask.planes.planes).toEqual(a.mask.planes.planes);
}

async function expectCode(
  p: Promise<unknown>,
  code: ExposureErrorCode,
  file?: string,
): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(isExposureError(err), String(err)).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  if (file) expect((err as Error).message).toContain(file);
}

describe('Exposure FITS round trip', () => {
  it.each(['none', 'gzip2'] as const)('keeps every field (compress %s)', async (compress) => {
    const exp = makeExposure();
    const path = join(dir, `all-${compress}.fits`);
    await writeExposure(path, exp, { compress });
    const back = await readExposure(path);
    expectSameExposure(exp, back);
    expect(back.visitInfo).toEqual(visitInfo);
    expect(back.photoCalib?.calibrationMean).toBe(0.57);
    expect(back.photoCalib?.calibrationErr).toBe(0.003);
    expect(back.metadata.get('OBSERVER')).toBe('sim');
    expect(back.metadata.get('SEEING')).toBe(0.71);
    expect(back.metadata.history).toEqual(['made by a test']);
    expect(back.metadata.has('VISIT')).toBe(false);
    expect(back.psf?.kind).toBe('double-gaussian');
    expect(back.psf?.sigma).toBeCloseTo(exp.psf!.sigma, 12);
    // The WCS stays in parent pixel coordinates.
    for (const [x, y] of [
      [100, 200],
      [136, 222],
      [117.3, 209.9],
    ] as const) {
      const s0 = exp.wcs!.pixelToSky(x, y);
      const s1 = back.wcs!.pixelToSky(x, y);
      expect(s1.ra).toBeCloseTo(s0.ra, 10);
      expect(s1.dec).toBeCloseTo(s0.dec, 10);
    }
    const fits = await readFits(path);
    const ih = fits.image('IMAGE').header;
    expect(ih.get('LTV1')).toBe(-100);
    expect(ih.get('LTV2')).toBe(-200);
    expect(ih.get('CRVAL1A')).toBe(100);
    expect(ih.get('WCSNAMEA')).toBe('PARENT');
    // FITS CRPIX describes file pixels: parent crpix - xy0 + 1.
    expect(ih.get('CRPIX1')).toBeCloseTo(1000.5 - 100 + 1, 10);
    expect(ih.get('CTYPE1')).toBe('RA---TAN-SIP');
    expect(fits.image('MASK').header.get('MP_STREAK')).toBe(9);
    expect(fits.image('MASK').header.get('MP_NO_DATA')).toBe(8);
    const primary = fits.hdus[0]!.header;
    expect(primary.get('VISIT')).toBe(2024110800123);
    expect(primary.get('FILTER')).toBe('r_57');
    expect(primary.get('MJD-OBS')).toBeCloseTo(60622.123456789 - 15 / 86400, 9);
    expect(primary.get('FLUXMAG0')).toBeCloseTo(3631e9 / 0.57, 0);
    if (compress === 'gzip2') expect(fits.image('IMAGE').compression?.type).toBe('GZIP_2');
  });

  it('writes byte-identical files for identical exposures (no dates)', async () => {
    const a = exposureToBytes(makeExposure(), { compress: 'gzip2' });
    const b = exposureToBytes(makeExposure(), { compress: 'gzip2' });
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
  });

  it('reads from bytes', async () => {
    const exp = makeExposure();
    const back = await readExposure(exposureToBytes(exp));
    expectSameExposure(exp, back);
  });

  it('exposure without WCS, PSF, calibration or visit info reads back nulls', async () => {
    const exp = Exposure.create(8, 6);
    exp.image.data.fill(3);
    const path = join(dir, 'bare.fits');
    await writeExposure(path, exp);
    const back = await readExposure(path);
    expect(back.wcs).toBeNull();
    expect(back.psf).toBeNull();
    expect(back.photoCalib).toBeNull();
    expect(back.visitInfo).toBeNull();
    expect(back.xy0).toEqual({ x: 0, y: 0 });
    expect(back.image.get(7, 5)).toBe(3);
  });
});

describe('sub-box reads', () => {
  it.each(['none', 'gzip2'] as const)(
    'equal the crop of a full read (compress %s)',
    async (compress) => {
      const exp = makeExposure();
      const path = join(dir, `box-${compress}.fits`);
      await writeExposure(path, exp, { compress });
      const full = await readExposure(path);
      for (const box of [
        new Box2I(105, 203, 10, 7),
        new Box2I(100, 200, 37, 1),
        new Box2I(136, 222, 1, 1),
      ]) {
        const part = await readExposure(path, { bbox: box });
        expect(part.xy0).toEqual({ x: box.minX, y: box.minY });
        expectSameExposure(full.subset(box), part);
        expect(part.visitInfo).toEqual(visitInfo);
        expect(part.psf?.kind).toBe('double-gaussian');
        const s0 = full.wcs!.pixelToSky(box.minX, box.minY);
        const s1 = part.wcs!.pixelToSky(box.minX, box.minY);
        expect(s1.ra).toBe(s0.ra);
        expect(s1.dec).toBe(s0.dec);
        expect(part.image.get(box.minX, box.minY)).toBe(exp.image.get(box.minX, box.minY));
      }
      // A sub-box read of a sub-box file keeps parent coordinates too.
      const part = await readExposure(path, { bbox: new Box2I(110, 210, 5, 5) });
      const path2 = join(dir, `box2-${compress}.fits`);
      await writeExposure(path2, part, { compress });
      const again = await readExposure(path2, { bbox: new Box2I(112, 211, 2, 3) });
      expect(again.image.get(113, 213)).toBe(exp.image.get(113, 213));
    },
  );

  it('rejects a box outside the image', async () => {
    const path = join(dir, 'box-out.fits');
    await writeExposure(path, makeExposure());
    await expectCode(
      readExposure(path, { bbox: new Box2I(0, 0, 5, 5) }),
      'EXPOSURE_BAD_ARGUMENT',
      path,
    );
    await expectCode(
      readExposure(path, { bbox: new Box2I(130, 200, 8, 5) }),
      'EXPOSURE_BAD_ARGUMENT',
      path,
    );
  });
});

describe('bad input', () => {
  const plane = (
    name: string,
    data: Float32Array | Int32Array,
    w: number,
    h: number,
    header?: Header,
  ) => (header ? { name, data, shape: [w, h], header } : { name, data, shape: [w, h] });

  it('missing HDU names the file and the HDU', async () => {
    const path = join(dir, 'no-variance.fits');
    await writeFits(path, [
      { data: null },
      plane('IMAGE', new Float32Array(6), 3, 2),
      plane('MASK', new Int32Array(6), 3, 2),
    ]);
    let err: unknown;
    try {
      await readExposure(path);
    } catch (e) {
      err = e;
    }
    expect(isExposureError(err, 'EXPOSURE_MISSING_HDU')).toBe(true);
    expect((err as Error).message).toContain('VARIANCE');
    expect((err as Error).message).toContain(path);
    await expectCode(
      readExposure(path, { bbox: new Box2I(0, 0, 1, 1) }),
      'EXPOSURE_MISSING_HDU',
      path,
    );
  });

  it('mismatched plane sizes', async () => {
    const path = join(dir, 'mismatch.fits');
    await writeFits(path, [
      { data: null },
      plane('IMAGE', new Float32Array(6), 3, 2),
      plane('MASK', new Int32Array(6), 3, 2),
      plane('VARIANCE', new Float32Array(8), 4, 2),
    ]);
    await expectCode(readExposure(path), 'EXPOSURE_SHAPE_MISMATCH', path);
    await expectCode(
      readExposure(path, { bbox: new Box2I(0, 0, 1, 1) }),
      'EXPOSURE_SHAPE_MISMATCH',
      path,
    );
  });

  it('unknown mask bits, on read and on write', async () => {
    const path = join(dir, 'bits.fits');
    const mh = new Header();
    mh.set('MP_BAD', 0);
    mh.set('MP_SAT', 1);
    const mask = new Int32Array(6);
    mask[4] = 1 << 12;
    await writeFits(path, [
      { data: null },
      plane('IMAGE', new Float32Array(6), 3, 2),
      plane('MASK', mask, 3, 2, mh),
      plane('VARIANCE', new Float32Array(6), 3, 2),
    ]);
    await expectCode(readExposure(path), 'EXPOSURE_UNKNOWN_MASK_BITS', path);
    await expectCode(
      readExposure(path, { bbox: new Box2I(1, 1, 2, 1) }),
      'EXPOSURE_UNKNOWN_MASK_BITS',
      path,
    );
    // The sub-box without the bad pixel reads fine.
    const ok = await readExposure(path, { bbox: new Box2I(0, 0, 3, 1) });
    expect(ok.mask.planes.planes).toEqual({ BAD: 0, SAT: 1 });
    const exp = Exposure.create(3, 2);
    exp.mask.data[0] = 1 << 20;
    await expectCode(writeExposure(join(dir, 'never.fits'), exp), 'EXPOSURE_UNKNOWN_MASK_BITS');
    expect(
      (await readdir(dir)).some((f) => f.startsWith('never') || f.includes('never.fits')),
    ).toBe(false);
  });

  it('singular or NaN WCS', async () => {
    const singular = new Header();
    for (const [k, v] of [
      ['CTYPE1', 'RA---TAN'],
      ['CTYPE2', 'DEC--TAN'],
      ['CRPIX1', 1],
      ['CRPIX2', 1],
      ['CRVAL1', 10],
      ['CRVAL2', 20],
      ['CD1_1', 1e-4],
      ['CD1_2', 2e-4],
      ['CD2_1', 1e-4],
      ['CD2_2', 2e-4],
    ] as const)
      singular.set(k, v);
    const path = join(dir, 'singular.fits');
    await writeFits(path, [
      { data: null },
      plane('IMAGE', new Float32Array(6), 3, 2, singular),
      plane('MASK', new Int32Array(6), 3, 2),
      plane('VARIANCE', new Float32Array(6), 3, 2),
    ]);
    await expectCode(readExposure(path), 'EXPOSURE_BAD_WCS', path);
    // A NaN written by another tool: patch the CRVAL1 card's value field in the bytes.
    const good = exposureToBytes(makeExposure());
    const text = Buffer.from(good).toString('latin1');
    const at = text.indexOf('CRVAL1  =');
    expect(at).toBeGreaterThan(0);
    const patched = Buffer.from(good);
    patched.write(`CRVAL1  = ${'NaN'.padStart(20)}`.padEnd(80), at, 'latin1');
    const nanPath = join(dir, 'nan-wcs.fits');
    await writeFile(nanPath, patched);
    await expectCode(readExposure(nanPath), 'EXPOSURE_BAD_WCS', nanPath);
    await expectCode(
      readExposure(nanPath, { bbox: new Box2I(100, 200, 2, 2) }),
      'EXPOSURE_BAD_WCS',
      nanPath,
    );
  });

  it('not FITS, missing files, unwritable paths', async () => {
    const junk = join(dir, 'junk.fits');
    await writeFile(junk, 'hello world');
    await expectCode(readExposure(junk), 'EXPOSURE_BAD_FITS', junk);
    await expectCode(
      readExposure(junk, { bbox: new Box2I(0, 0, 1, 1) }),
      'EXPOSURE_BAD_FITS',
      junk,
    );
    await expectCode(readExposure(join(dir, 'absent.fits')), 'EXPOSURE_IO', 'absent.fits');
    await expectCode(
      writeExposure(join(dir, 'no-such-dir', 'x.fits'), makeExposure()),
      'EXPOSURE_IO',
      'x.fits',
    );
  });
});

describe('readPlainImageWithWeight', () => {
  it('turns an inverse-variance weight map into variance, zero weight into NO_DATA', async () => {
    const w = 4;
    const h = 3;
    const img = new Float32Array(w * h).map((_, i) => i * 1.5);
    const wt = new Float32Array(w * h).fill(4);
    wt[5] = 0;
    wt[6] = -1;
    img[7] = Number.NaN;
    const header = new Header();
    const wcs = makeWcs().withShiftedPixelOrigin(-1000, 300);
    for (const c of wcs.toFitsCards()) header.set(c.key, c.value);
    header.set('OBJECT', 'field');
    const imagePath = join(dir, 'coadd.fits');
    const weightPath = join(dir, 'coadd.weight.fits');
    await writeFits(imagePath, [{ data: img, shape: [w, h], header }]);
    await writeFits(weightPath, [{ data: wt, shape: [w, h] }]);
    const exp = await readPlainImageWithWeight(imagePath, weightPath);
    const noData = exp.mask.bitMask('NO_DATA');
    expect(exp.image.get(3, 0)).toBe(4.5);
    expect(exp.variance.get(0, 0)).toBe(0.25);
    for (const i of [5, 6, 7]) {
      expect(exp.mask.data[i]).toBe(noData);
      expect(exp.variance.data[i]).toBe(Number.POSITIVE_INFINITY);
    }
    expect(exp.mask.data[0]).toBe(0);
    expect(exp.metadata.get('OBJECT')).toBe('field');
    expect(exp.metadata.has('CRPIX1')).toBe(false);
    const s0 = wcs.pixelToSky(2, 1);
    const s1 = exp.wcs!.pixelToSky(2, 1);
    expect(s1.ra).toBeCloseTo(s0.ra, 10);
    expect(s1.dec).toBeCloseTo(s0.dec, 10);

    const smallWeight = join(dir, 'small.weight.fits');
    await writeFits(smallWeight, [{ data: new Float32Array(4), shape: [2, 2] }]);
    await expectCode(
      readPlainImageWithWeight(imagePath, smallWeight),
      'EXPOSURE_SHAPE_MISMATCH',
      smallWeight,
    );
    const empty = join(dir, 'empty.fits');
    await writeFits(empty, [{ data: null }]);
    await expectCode(readPlainImageWithWeight(empty, weightPath), 'EXPOSURE_MISSING_HDU', empty);
  });
});

describe('Exposure', () => {
  it('subset copies the pixels of a parent-coordinate box and keeps components', () => {
    const exp = makeExposure();
    const sub = exp.subset(new Box2I(110, 205, 3, 2));
    expect(sub.xy0).toEqual({ x: 110, y: 205 });
    expect(sub.image.get(112, 206)).toBe(exp.image.get(112, 206));
    expect(sub.mask.get(111, 205)).toBe(exp.mask.get(111, 205));
    expect(sub.wcs).toBe(exp.wcs);
    sub.image.set(110, 205, 42);
    expect(exp.image.get(110, 205)).not.toBe(42);
    expect(() => exp.subset(new Box2I(99, 205, 3, 2))).toThrow(/not inside/);
  });

  it('PhotoCalib converts counts to nJy and magnitudes', () => {
    const pc = new PhotoCalib(0.5, 0.01);
    expect(pc.instFluxToNanojansky(200)).toBe(100);
    expect(pc.instFluxToMagnitude(2)).toBeCloseTo(31.4, 12);
    expect(pc.instFluxErrToNanojansky(200, 10)).toBeCloseTo(Math.hypot(5, 2), 12);
    const back = PhotoCalib.fromFluxMag0(pc.fluxMag0, pc.fluxMag0Err);
    expect(back.calibrationMean).toBeCloseTo(0.5, 12);
    expect(back.calibrationErr).toBeCloseTo(0.01, 12);
  });
});
