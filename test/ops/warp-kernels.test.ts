/**
 * The CPU warp runs a WebAssembly kernel (warpRows); the plain TypeScript kernel
 * (warpRowsJs) is kept as its readable reference. Both must fill the same pixels with
 * the same masks, and values equal to float32 rounding (the WASM kernel sums taps two at
 * a time in float64).
 */
import { describe, expect, it } from 'vitest';
import { Box2I } from '../../src/geom/box.ts';
import { Wcs } from '../../src/geom/wcs.ts';
import { MaskedImage } from '../../src/image/masked-image.ts';
import { planSources } from '../../src/ops/warp/cpu.ts';
import { type WarpRowsArgs, warpRows, warpRowsJs } from '../../src/ops/warp/cpu-kernel.ts';
import { prepareWarp } from '../../src/ops/warp/spec.ts';
import { Rng, TEST_SEED } from '../helpers/random.ts';

const NO_DATA = 1 << 8;

describe(`warp kernels: WASM vs TypeScript reference (seed ${TEST_SEED})`, () => {
  for (const kernel of ['lanczos3', 'lanczos5', 'bilinear'] as const) {
    it(kernel, async () => {
      const rng = new Rng(TEST_SEED);
      const src = MaskedImage.create(333, 271);
      for (let p = 0; p < src.image.data.length; p++) {
        src.image.data[p] = rng.normal() * 20 + 100;
        src.variance.data[p] = rng.uniform(10, 90);
        const u = rng.next();
        if (u < 0.01) src.mask.data[p] = 1;
        else if (u < 0.012) src.mask.data[p] = NO_DATA;
        else if (u < 0.014) src.image.data[p] = Number.NaN;
      }
      const wcs = Wcs.fromScaleRotation({
        crpix: [166, 135],
        crval: [20, -10],
        scale: 0.2,
        rotation: 0,
      });
      const target = {
        wcs: Wcs.fromScaleRotation({
          crpix: [150, 140],
          crval: [20.0003, -10.0002],
          scale: 0.21,
          rotation: 17,
        }),
        bbox: new Box2I(0, 0, 320, 300),
      };
      const p = prepareWarp({ sources: [{ maskedImage: src, wcs }], target }, { kernel });
      const plan = planSources([{ maskedImage: src, wcs }], target, p)[0]!;
      if ('reason' in plan) throw new Error(plan.reason);
      const g = plan.grid;
      const outs = [0, 1].map(() => ({
        img: new Float32Array(target.bbox.area).fill(Number.NaN),
        vr: new Float32Array(target.bbox.area).fill(Number.POSITIVE_INFINITY),
        msk: new Int32Array(target.bbox.area).fill(NO_DATA),
      }));
      const args = (o: (typeof outs)[number]): WarpRowsArgs => ({
        srcImg: src.image.data,
        srcVar: src.variance.data,
        srcMsk: src.mask.data,
        srcW: src.width,
        srcH: src.height,
        gx0: g.x0,
        gy0: g.y0,
        step: g.step,
        gnx: g.nx,
        gny: g.ny,
        gix: g.ix,
        gfx: g.fx,
        giy: g.iy,
        gfy: g.fy,
        garea: g.area,
        rx0: plan.region.minX,
        ry0: plan.region.minY,
        rw: plan.region.width,
        outImg: o.img,
        outVar: o.vr,
        outMsk: o.msk,
        ox0: 0,
        oy0: 0,
        ow: target.bbox.width,
        n: p.n,
        kernelCode: p.kernelCode,
        noData: p.noDataBits,
        start: 0,
        end: plan.region.height,
      });
      const nWasm = await warpRows(args(outs[0]!));
      const nJs = warpRowsJs(args(outs[1]!));
      expect(nWasm).toBe(nJs);
      expect(nJs).toBeGreaterThan(40000);
      expect(outs[0]!.msk).toEqual(outs[1]!.msk);
      let bad = '';
      for (let i = 0; i < target.bbox.area && !bad; i++) {
        const a = outs[0]!.img[i]!;
        const b = outs[1]!.img[i]!;
        const va = outs[0]!.vr[i]!;
        const vb = outs[1]!.vr[i]!;
        if (Number.isNaN(b)) {
          if (!Number.isNaN(a)) bad = `pixel ${i}: ${a} where the reference has NaN`;
        } else if (Math.abs(a - b) > 1.2e-7 * Math.abs(b) || Math.abs(va - vb) > 1.2e-7 * vb) {
          bad = `pixel ${i}: ${a}, ${va} vs ${b}, ${vb}`;
        }
      }
      expect(bad).toBe('');
    });
  }
});
