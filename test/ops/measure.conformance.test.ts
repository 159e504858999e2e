/**
 * `measure`: accuracy on simulated coadds with truth (fixed seeds: statistical bounds on
 * a few hundred stars are not for random seeds), flags on constructed cases, the WCS
 * columns, and cpu against webgpu on the same footprints (TEST_SEED).
 *
 * Declared accuracy (isolated point sources, PSF sigma 2 px, background subtracted by
 * the background op): PSF flux median bias < 1% and pull width 1 +- 0.1 (S/N >= 20);
 * centroid bias < 0.01 px, centroid pull width (x and y together) 1 +- 0.1, median |offset| < 0.05 px for
 * S/N > 50; adaptive moments of stars = sigma^2 within 2%; 12-px aperture = total flux
 * within 1%. cpu vs webgpu (float64 vs float32): centroids 1e-4 px, fluxes 1e-5 x
 * (|F| + err), moments 1e-4 relative, flags equal.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { simulateCoadd } from '../../bench/detect.ts';
import { Wcs } from '../../src/geom/wcs.ts';
import { MaskedImage } from '../../src/image/masked-image.ts';
import { background } from '../../src/ops/background/index.ts';
import { detect } from '../../src/ops/detect/index.ts';
import { FLAG, type MeasureResult, measure } from '../../src/ops/measure/index.ts';
import { backendCases, cpuBackend, disposeBackends, webgpuOrNull } from '../helpers/backends.ts';
import { TEST_SEED } from '../helpers/random.ts';

const SIGMA = 2;
const SAT = 1 << 1;

function med(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
function std(a: number[]): number {
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1));
}

/** Isolated truth sources (no other within 15 px) matched (< 2 px) to unblended sources. */
function isolatedMatches(
  t: { x: Float64Array; y: Float64Array },
  m: MeasureResult,
): Array<{ i: number; k: number }> {
  const rows: Array<{ i: number; k: number }> = [];
  for (let i = 0; i < t.x.length; i++) {
    let isolated = true;
    for (let j = 0; j < t.x.length && isolated; j++) {
      if (j !== i && (t.x[j]! - t.x[i]!) ** 2 + (t.y[j]! - t.y[i]!) ** 2 < 225) isolated = false;
    }
    if (!isolated) continue;
    let best = -1;
    let bd = 4;
    for (let k = 0; k < m.count; k++) {
      const d = (m.x[k]! - t.x[i]!) ** 2 + (m.y[k]! - t.y[i]!) ** 2;
      if (d < bd) {
        bd = d;
        best = k;
      }
    }
    if (best >= 0 && (m.flags[best]! & FLAG.blended) === 0) rows.push({ i, k: best });
  }
  return rows;
}

describe('measure accuracy on a simulated coadd (cpu, 1024^2)', () => {
  afterAll(disposeBackends);

  it('PSF fluxes, centroids, moments and apertures match the truth', async () => {
    const cpu = cpuBackend();
    const sim = simulateCoadd({
      width: 1024,
      height: 1024,
      sources: 700,
      psfSigma: SIGMA,
      noise: 10,
      sky: 300,
      snrMin: 15,
      snrMax: 3000,
      margin: 30,
      seed: 7_000_003,
    });
    const bg = await background(cpu, sim.image, {});
    const det = await detect(cpu, bg.subtracted, { psfSigma: SIGMA });
    const m = await measure(cpu, bg.subtracted, det.positive!, {
      psf: { kind: 'gaussian', sigma: SIGMA },
    });
    const t = sim.truth;
    const rows = isolatedMatches(t, m);
    expect(rows.length).toBeGreaterThan(200);
    const bright = rows.filter((r) => t.snr[r.i]! >= 20);
    const ratio = bright.map((r) => m.psfFlux[r.k]! / t.flux[r.i]! - 1);
    const pull = bright.map((r) => (m.psfFlux[r.k]! - t.flux[r.i]!) / m.psfFluxErr[r.k]!);
    expect(Math.abs(med(ratio))).toBeLessThan(0.01);
    expect(Math.abs(std(pull) - 1)).toBeLessThan(0.1);
    // Errors come from the variance plane: sqrt(sum P^2 var) / sum P^2 = noise sqrt(4 pi) sigma.
    expect(
      med(bright.map((r) => m.psfFluxErr[r.k]!)) / (10 * Math.sqrt(4 * Math.PI) * SIGMA),
    ).toBeCloseTo(1, 2);

    // Centroids: a second field of bright stars (S/N 50..2000), same matching.
    const simB = simulateCoadd({
      width: 1024,
      height: 1024,
      sources: 500,
      psfSigma: SIGMA,
      noise: 10,
      sky: 300,
      snrMin: 50,
      snrMax: 2000,
      margin: 30,
      seed: 7_000_004,
    });
    const bgB = await background(cpu, simB.image, {});
    const detB = await detect(cpu, bgB.subtracted, { psfSigma: SIGMA });
    const mB = await measure(cpu, bgB.subtracted, detB.positive!, {
      psf: { kind: 'gaussian', sigma: SIGMA },
    });
    const c50 = isolatedMatches(simB.truth, mB);
    expect(c50.length).toBeGreaterThan(150);
    const dx = c50.map((r) => mB.x[r.k]! - simB.truth.x[r.i]!);
    const dy = c50.map((r) => mB.y[r.k]! - simB.truth.y[r.i]!);
    expect(Math.abs(dx.reduce((s, v) => s + v, 0) / dx.length)).toBeLessThan(0.01);
    expect(Math.abs(dy.reduce((s, v) => s + v, 0) / dy.length)).toBeLessThan(0.01);
    expect(med(c50.map((_, j) => Math.hypot(dx[j]!, dy[j]!)))).toBeLessThan(0.05);
    const px = c50.map((r, j) => dx[j]! / mB.xErr[r.k]!);
    const py = c50.map((r, j) => dy[j]! / mB.yErr[r.k]!);
    expect(Math.abs(std([...px, ...py]) - 1)).toBeLessThan(0.1);

    const c200 = rows.filter((r) => t.snr[r.i]! > 200);
    for (const r of c200) {
      expect(m.ixx[r.k]! / (SIGMA * SIGMA)).toBeCloseTo(1, 1);
      expect(m.iyy[r.k]! / (SIGMA * SIGMA)).toBeCloseTo(1, 1);
      expect(Math.abs(m.e1[r.k]!)).toBeLessThan(0.02);
      expect(Math.abs(m.e2[r.k]!)).toBeLessThan(0.02);
    }
    expect(Math.abs(med(c200.map((r) => m.ixx[r.k]! / 4 - 1)))).toBeLessThan(0.02);
    const last = m.radii.length - 1;
    expect(m.radii[last]).toBe(12);
    const ap = c200.map((r) => m.apFlux[last]![r.k]! / t.flux[r.i]! - 1);
    expect(Math.abs(med(ap))).toBeLessThan(0.01);
    // The 3-px aperture holds 1 - exp(-9 / 2 s^2) of a Gaussian; the point-sampled
    // stars spread each pixel's value over its area, so s^2 = sigma^2 + 1/12.
    const ap3 = c200.map((r) => m.apFlux[0]![r.k]! / t.flux[r.i]!);
    expect(med(ap3)).toBeCloseTo(1 - Math.exp(-9 / (2 * (SIGMA * SIGMA + 1 / 12))), 2);
  });
});

describe('measure flags and sky positions', () => {
  afterAll(disposeBackends);

  it('edge, saturated, NaN-in-aperture and blended flags; ra/dec from the WCS', async () => {
    const W = 200;
    const H = 120;
    const mi = MaskedImage.create(W, H, { xy0: { x: 1000, y: 2000 } });
    mi.variance.data.fill(1);
    const star = (cx: number, cy: number, f: number) => {
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          mi.image.data[y * W + x] =
            mi.image.data[y * W + x]! +
            (f / (2 * Math.PI * 4)) * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 8);
    };
    star(50.3, 60.7, 5000); // clean
    star(17.2, 60, 5000); // edge: its 4-sigma stamp reaches the unsmoothable border
    star(100, 30, 5000); // saturated core
    star(150, 60, 5000); // NaN 5 px away
    star(100, 95, 5000); // blended pair
    star(108, 95, 4000);
    mi.mask.data[30 * W + 100] = SAT;
    mi.image.data[60 * W + 155] = Number.NaN;
    const det = await detect(cpuBackend(), mi, { psfSigma: 2 });
    const wcs = Wcs.fromScaleRotation({ crpix: [1100, 2060], crval: [150, 2.2], scale: 0.2 });
    // Measure with detect's mask (EDGE on the border, DETECTED), as a pipeline does.
    const withMask = new MaskedImage(mi.image, det.mask, mi.variance);
    const m = await measure(
      cpuBackend(),
      withMask,
      det.positive!,
      { psf: { kind: 'gaussian', sigma: 2 } },
      wcs,
    );
    const at = (x: number, y: number) => {
      let best = 0;
      for (let k = 0; k < m.count; k++)
        if (Math.hypot(m.x[k]! - x, m.y[k]! - y) < Math.hypot(m.x[best]! - x, m.y[best]! - y))
          best = k;
      return best;
    };
    const clean = at(1050.3, 2060.7);
    expect(m.x[clean]).toBeCloseTo(1050.3, 2);
    expect(m.y[clean]).toBeCloseTo(2060.7, 2);
    expect(m.psfFlux[clean]! / 5000).toBeCloseTo(1, 2);
    expect(m.flags[clean]).toBe(0);
    const sky = wcs.pixelToSky(m.x[clean]!, m.y[clean]!);
    expect(m.ra![clean]).toBe(sky.ra);
    expect(m.dec![clean]).toBe(sky.dec);
    // The clean star sits 0.7 px north of crpix at 0.2 arcsec/px.
    expect((m.dec![clean]! - 2.2) * 3600).toBeCloseTo(0.14, 2);
    const e = at(1017.2, 2060);
    expect(m.flags[e]! & FLAG.edge).toBe(FLAG.edge);
    expect(m.flags[at(1100, 2030)]! & FLAG.saturated).toBe(FLAG.saturated);
    expect(m.flags[at(1150, 2060)]! & FLAG.nanAperture).toBe(FLAG.nanAperture);
    const b = at(1100, 2095);
    expect(m.flags[b]! & FLAG.blended).toBe(FLAG.blended);
    expect(m.footprintPeaks[b]).toBe(2);
  });
});

describe(`measure cpu vs webgpu (seed ${TEST_SEED})`, async () => {
  const backends = await backendCases();
  afterAll(disposeBackends);

  it('the same footprints give the same measurements', async () => {
    const g = await webgpuOrNull();
    if (!g) return expect(backends).toHaveLength(1);
    const sim = simulateCoadd({
      width: 256,
      height: 256,
      sources: 80,
      psfSigma: 1.7,
      noise: 5,
      snrMin: 5,
      seed: TEST_SEED,
    });
    // Some masked and NaN pixels too.
    sim.image.image.data[100 * 256 + 100] = Number.NaN;
    sim.image.mask.data[50 * 256 + 60] = 1;
    const det = await detect(cpuBackend(), sim.image, { psfSigma: 1.7 });
    const params = { psf: { kind: 'gaussian' as const, sigma: 1.7 }, apertureRadii: [2.5, 6, 9] };
    const a = await measure(cpuBackend(), sim.image, det.positive!, params);
    const b = await measure(g, sim.image, det.positive!, params);
    expect(a.count).toBeGreaterThan(20);
    expect(b.count).toBe(a.count);
    const bad: string[] = [];
    const check = (name: string, x: number, y: number, tol: number) => {
      if (Number.isNaN(x) && Number.isNaN(y)) return;
      if (!(Math.abs(x - y) <= tol)) bad.push(`${name}: ${x} vs ${y}`);
    };
    for (let k = 0; k < a.count; k++) {
      expect(b.flags[k]).toBe(a.flags[k]);
      check('x', a.x[k]!, b.x[k]!, 1e-4);
      check('y', a.y[k]!, b.y[k]!, 1e-4);
      check(
        'psfFlux',
        a.psfFlux[k]!,
        b.psfFlux[k]!,
        1e-5 * (Math.abs(a.psfFlux[k]!) + a.psfFluxErr[k]!),
      );
      check('psfFluxErr', a.psfFluxErr[k]!, b.psfFluxErr[k]!, 1e-5 * a.psfFluxErr[k]!);
      for (let r = 0; r < a.radii.length; r++) {
        const e = a.apFluxErr[r]![k]!;
        check(
          `ap${r}`,
          a.apFlux[r]![k]!,
          b.apFlux[r]![k]!,
          1e-5 * (Math.abs(a.apFlux[r]![k]!) + e),
        );
      }
      check('ixx', a.ixx[k]!, b.ixx[k]!, 1e-4 * Math.abs(a.ixx[k]!));
      check('iyy', a.iyy[k]!, b.iyy[k]!, 1e-4 * Math.abs(a.iyy[k]!));
      check('xErr', a.xErr[k]!, b.xErr[k]!, 1e-4 * a.xErr[k]!);
    }
    expect(bad).toEqual([]);
  });

  it('a footprint set of another image is refused', async () => {
    const det = await detect(
      cpuBackend(),
      simulateCoadd({ width: 64, height: 64, sources: 3, psfSigma: 1, noise: 1, seed: 1 }).image,
      {
        psfSigma: 1,
      },
    );
    await expect(
      measure(cpuBackend(), MaskedImage.create(65, 64), det.positive!, {
        psf: { kind: 'gaussian', sigma: 1 },
      }),
    ).rejects.toThrow(/not of this image/);
  });
});
