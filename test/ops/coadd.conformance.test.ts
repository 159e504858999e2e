/**
 * `coaddMean` (streaming, warp fused with accumulation) is defined as stack(MEAN) of the
 * per-visit warps: the CPU path gives exactly those bits; the GPU path agrees to float32
 * rounding (declared: image 1e-5 x (|value| + sigma) + 1e-6 x max |input|, variance 1e-5
 * relative; masks and coverage exact,
 * weights within 1e-6 relative).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Box2I } from '../../src/geom/box.ts';
import { Wcs } from '../../src/geom/wcs.ts';
import { MaskedImage } from '../../src/image/masked-image.ts';
import { coaddMean, prepareCoadd } from '../../src/ops/coadd/index.ts';
import { OpInputError } from '../../src/ops/errors.ts';
import { stack } from '../../src/ops/stack/index.ts';
import { warp } from '../../src/ops/warp/index.ts';
import { backendCases, cpuBackend, disposeBackends } from '../helpers/backends.ts';
import { Rng, TEST_SEED } from '../helpers/random.ts';

const SAT = 2;
const BAD = 1;
const NO_DATA = 1 << 8;

function ccd(rng: Rng, w: number, h: number, level: number): MaskedImage {
  const mi = MaskedImage.create(w, h);
  for (let p = 0; p < w * h; p++) {
    mi.image.data[p] = level + rng.normal() * 5 + (rng.next() < 0.01 ? 500 : 0);
    mi.variance.data[p] = 25 * rng.uniform(0.8, 1.2);
    const u = rng.next();
    mi.mask.data[p] = u < 0.02 ? SAT : u < 0.03 ? BAD : u < 0.035 ? 8 : 0;
  }
  return mi;
}

describe(`coaddMean (seed ${TEST_SEED})`, async () => {
  const backends = await backendCases();
  afterAll(disposeBackends);
  const rng = new Rng(TEST_SEED);
  const target = {
    wcs: Wcs.fromScaleRotation({ crpix: [90, 60], crval: [150, 2], scale: 0.2, rotation: 0 }),
    bbox: new Box2I(0, 0, 180, 120),
  };
  // Three visits of two side-by-side CCDs each, dithered and rotated.
  const visits = [0, 1, 2].map((v) => {
    const rot = 7 * v;
    const off = 0.0004 * v;
    return [0, 1].map((d) => ({
      maskedImage: ccd(rng, 100, 130, 10 + v),
      wcs: Wcs.fromScaleRotation({
        crpix: [d === 0 ? 99 : -6, 65],
        crval: [150 + off, 2 - off / 2],
        scale: 0.2,
        rotation: rot,
      }),
    }));
  });

  it('cpu: exactly stack(MEAN) of the per-visit warps', async () => {
    const cpu = cpuBackend();
    const warps = [];
    for (const v of visits) warps.push((await warp(cpu, v, target)).warp);
    const ref = await stack(cpu, warps, { statistic: 'MEAN' });
    const r = await coaddMean(cpu, visits, target);
    expect(r.weights).toEqual(ref.weights);
    expect(r.coverage).toEqual(ref.coverage);
    expect(r.coadd.mask.data).toEqual(ref.coadd.mask.data);
    expect(r.coadd.image.data).toEqual(ref.coadd.image.data);
    expect(r.coadd.variance.data).toEqual(ref.coadd.variance.data);
    expect(r.coadd.xy0).toEqual({ x: 0, y: 0 });
    // Something of everything happened.
    expect(Math.max(...r.coverage)).toBe(3);
    expect(r.coverage.filter((c) => c === 0).length).toBeGreaterThan(0);
    expect(r.coadd.mask.data.some((m) => (m & SAT) !== 0)).toBe(true);
  });

  for (const be of backends.filter((b) => b.name === 'webgpu')) {
    it('webgpu: agrees with the cpu path to float32 rounding', async () => {
      const g = await be.get();
      const a = await coaddMean(cpuBackend(), visits, target);
      const b = await coaddMean(g, visits, target);
      // The GPU's float32 trig in the Lanczos weights errs relative to the largest input
      // under the kernel (cosmic rays of ~500 here), not to the output value.
      let maxInput = 0;
      for (const v of visits)
        for (const c of v)
          for (const x of c.maskedImage.image.data) maxInput = Math.max(maxInput, Math.abs(x));
      expect(b.coverage).toEqual(a.coverage);
      expect(b.coadd.mask.data).toEqual(a.coadd.mask.data);
      a.weights!.forEach((w, i) => {
        expect(Math.abs((b.weights![i] as number) / w - 1)).toBeLessThan(1e-6);
      });
      for (let i = 0; i < a.coverage.length; i++) {
        const x = a.coadd.image.data[i] as number;
        const y = b.coadd.image.data[i] as number;
        if (Number.isNaN(x)) {
          expect(y).toBeNaN();
          continue;
        }
        const v0 = a.coadd.variance.data[i] as number;
        expect(Math.abs(x - y)).toBeLessThanOrEqual(
          1e-5 * (Math.abs(x) + Math.sqrt(v0)) + 1e-6 * maxInput,
        );
        const v = a.coadd.variance.data[i] as number;
        expect(Math.abs((b.coadd.variance.data[i] as number) - v)).toBeLessThanOrEqual(1e-5 * v);
      }
    });
  }

  it('bad input', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as Error;
      }
      return null;
    };
    expect(err(() => prepareCoadd({ visits: [], target }, {}))).toBeInstanceOf(OpInputError);
    expect(err(() => prepareCoadd({ visits, target }, { weights: [1] }))?.message).toMatch(
      /1 weights for 3 visits/,
    );
    expect(
      err(() => prepareCoadd({ visits, target }, { badMaskPlanes: ['NOPE'] }))?.message,
    ).toMatch(/NOPE/);
    expect(NO_DATA).toBe(256);
  });
});
