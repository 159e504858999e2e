import { describe, expect, it } from 'vitest';
import { fitsToBytes, readFits } from '../../src/fits/index.ts';
import { isExposureError } from '../../src/image/exposure-errors.ts';
import {
  DoubleGaussianPsf,
  FWHM_PER_SIGMA,
  GaussianPsf,
  ImagePsf,
  type Psf,
  psfFromFits,
} from '../../src/image/psf.ts';

function numericMoments(psf: Psf): {
  sum: number;
  cx: number;
  cy: number;
  ixx: number;
  iyy: number;
} {
  const k = psf.computeKernelImage(100.3, 7.9);
  let sum = 0;
  let cx = 0;
  let cy = 0;
  for (let y = k.xy0.y; y < k.xy0.y + k.height; y++) {
    for (let x = k.xy0.x; x < k.xy0.x + k.width; x++) {
      const v = k.get(x, y);
      sum += v;
      cx += v * x;
      cy += v * y;
    }
  }
  let ixx = 0;
  let iyy = 0;
  for (let y = k.xy0.y; y < k.xy0.y + k.height; y++) {
    for (let x = k.xy0.x; x < k.xy0.x + k.width; x++) {
      const v = k.get(x, y);
      ixx += v * (x - cx) ** 2;
      iyy += v * (y - cy) ** 2;
    }
  }
  return { sum, cx, cy, ixx, iyy };
}

async function roundTrip(psf: Psf): Promise<Psf> {
  const f = await readFits(fitsToBytes([{ data: null }, psf.toFitsHdu()]));
  const hdu = f.image('PSF');
  return psfFromFits(hdu.header, hdu.data as Float64Array, hdu.shape);
}

describe('PSF models', () => {
  it('Gaussian: centred, normalized kernel whose moments give sigma and FWHM', () => {
    const psf = new GaussianPsf(31, 27, 2.5);
    const k = psf.computeKernelImage();
    expect(k.xy0).toEqual({ x: -15, y: -13 });
    expect(k.width).toBe(31);
    expect(k.height).toBe(27);
    const m = numericMoments(psf);
    expect(m.sum).toBeCloseTo(1, 6);
    expect(m.cx).toBeCloseTo(0, 9);
    expect(m.cy).toBeCloseTo(0, 9);
    expect(Math.sqrt(m.ixx)).toBeCloseTo(2.5, 3);
    expect(psf.sigma).toBe(2.5);
    expect(psf.fwhm).toBeCloseTo(2.5 * 2.354820045, 6);
    expect(FWHM_PER_SIGMA).toBeCloseTo(2.354820045, 8);
    // The peak is the centre pixel; values fall off as exp(-r^2 / 2 sigma^2).
    expect(k.get(1, 0) / k.get(0, 0)).toBeCloseTo(Math.exp(-1 / (2 * 2.5 ** 2)), 6);
  });

  it('double Gaussian: b is the peak-amplitude ratio; analytic sigma equals the kernel moments', () => {
    const psf = new DoubleGaussianPsf(61, 61, 1.5, 4, 0.1);
    const k = psf.computeKernelImage();
    const expect0 = 1 + 0.1;
    const at3 = Math.exp(-9 / (2 * 1.5 ** 2)) + 0.1 * Math.exp(-9 / (2 * 16));
    expect(k.get(3, 0) / k.get(0, 0)).toBeCloseTo(at3 / expect0, 6);
    const m = numericMoments(psf);
    expect(m.sum).toBeCloseTo(1, 6);
    // sigma_eff^2 = (s1^4 + b s2^4) / (s1^2 + b s2^2)
    const s2 = (1.5 ** 4 + 0.1 * 4 ** 4) / (1.5 ** 2 + 0.1 * 16);
    expect(psf.sigma).toBeCloseTo(Math.sqrt(s2), 10);
    expect(Math.sqrt((m.ixx + m.iyy) / 2)).toBeCloseTo(Math.sqrt(s2), 2);
  });

  it('image PSF: normalizes, measures moments, keeps the kernel', () => {
    const w = 21;
    const data = new Float64Array(w * w);
    for (let j = 0; j < w; j++)
      for (let i = 0; i < w; i++)
        data[j * w + i] = 7 * Math.exp(-((i - 10) ** 2 + (j - 10) ** 2) / (2 * 1.8 ** 2));
    const psf = new ImagePsf({ width: w, height: w, data });
    const m = numericMoments(psf);
    expect(m.sum).toBeCloseTo(1, 6);
    expect(psf.sigma).toBeCloseTo(1.8, 3);
    expect(psf.computeKernelImage().get(0, 0)).toBeCloseTo(
      data[10 * w + 10]! / (7 * 2 * Math.PI * 1.8 ** 2),
      4,
    );
  });

  it('rejects even sizes, non-positive sigma and bad images with EXPOSURE_BAD_PSF', () => {
    const bad = (f: () => unknown): void => {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(isExposureError(err, 'EXPOSURE_BAD_PSF')).toBe(true);
    };
    bad(() => new GaussianPsf(20, 21, 2));
    bad(() => new GaussianPsf(21, 21, 0));
    bad(() => new DoubleGaussianPsf(21, 21, 1, 2, -1));
    bad(() => new ImagePsf({ width: 3, height: 3, data: new Float64Array(9) }));
    bad(() => new ImagePsf({ width: 3, height: 3, data: new Float64Array(8) }));
  });

  it('round-trips every model through a FITS extension', async () => {
    const models: Psf[] = [
      new GaussianPsf(25, 25, 2.1),
      new DoubleGaussianPsf(33, 29, 1.4, 3.3, 0.07),
      new ImagePsf(new GaussianPsf(15, 15, 1.3).computeKernelImage()),
    ];
    for (const psf of models) {
      const back = await roundTrip(psf);
      expect(back.kind).toBe(psf.kind);
      expect(back.width).toBe(psf.width);
      expect(back.height).toBe(psf.height);
      expect(back.sigma).toBeCloseTo(psf.sigma, 12);
      expect(Array.from(back.computeKernelImage().data)).toEqual(
        Array.from(psf.computeKernelImage().data),
      );
    }
    const hdu = models[1]!.toFitsHdu();
    expect(hdu.name).toBe('PSF');
    expect(hdu.header?.get('PSFMODEL')).toBe('DOUBLE_GAUSSIAN');
    expect(hdu.header?.get('PSFB')).toBe(0.07);
  });
});
