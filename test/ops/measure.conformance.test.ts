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
 *
 * `image` PSFs (a kernel image as PSF-flux template, shifted to the centroid by
 * Lanczos-3): on stars rendered with a pixel-integrated Moffat (the simulator's), PSF
 * flux median bias < 0.5% at any sub-pixel phase and pull width 1 +- 0.1, where the
 * Gaussian of the same second-moment sigma is biased high by > 5%; a Gaussian kernel
 * image agrees with the `gaussian` kind; cpu vs webgpu to the tolerances above, with a
 * lopsided kernel and sources at the image edges.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { simulateCoadd } from '../../bench/detect.ts';
import { Wcs } from '../../src/geom/wcs.ts';
import { MaskedImage } from '../../src/image/masked-image.ts';
import { ImagePsf } from '../../src/image/psf.ts';
import { background } from '../../src/ops/background/index.ts';
import { detect } from '../../src/ops/detect/index.ts';
import { FLAG, type MeasureResult, measure } from '../../src/ops/measure/index.ts';
import { renderPsfStamp } from '../../src/sim/index.ts';
import { backendCases, cpuBackend, disposeBackends, webgpuOrNull } from '../helpers/backends.ts';
import { Rng, TEST_SEED } from '../helpers/random.ts';

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

/** The simulator's pixel-integrated Moffat (beta 2.5, FWHM 4 px), kernel radius 20 px. */
const MOFFAT = {
  model: 'moffat' as const,
  alpha: 4 / (2 * Math.sqrt(2 ** (1 / 2.5) - 1)),
  beta: 2.5,
};
const MOFFAT_R = 20;

/** The kernel image of MOFFAT centred on a pixel (41 x 41, sum 1). */
function moffatKernel(): ImagePsf {
  const n = 2 * MOFFAT_R + 1;
  const k = new Float64Array(n * n);
  renderPsfStamp(MOFFAT, 0, 0, MOFFAT_R, k, new Float64Array(2 * n));
  return new ImagePsf({ width: n, height: n, data: k });
}

/**
 * A field of isolated Moffat stars on a grid (60 px apart, random sub-pixel positions,
 * S/N ~20..500), white noise `noise`, constant variance; truth positions and fluxes.
 */
function moffatField(seed: number, noise: number) {
  const rng = new Rng(seed);
  const W = 900;
  const mi = MaskedImage.create(W, W);
  for (let p = 0; p < W * W; p++) mi.image.data[p] = noise * rng.normal();
  mi.variance.data.fill(noise * noise);
  const n = 2 * MOFFAT_R + 1;
  const stamp = new Float64Array(n * n);
  const scratch = new Float64Array(2 * n);
  const truth: Array<{ x: number; y: number; flux: number }> = [];
  for (let gy = 40; gy < W - 40; gy += 60) {
    for (let gx = 40; gx < W - 40; gx += 60) {
      const x = gx + rng.uniform(-0.5, 0.5);
      const y = gy + rng.uniform(-0.5, 0.5);
      const flux = noise * 10 ** rng.uniform(2.3, 3.7);
      renderPsfStamp(MOFFAT, x, y, MOFFAT_R, stamp, scratch);
      const cx = Math.round(x);
      const cy = Math.round(y);
      for (let j = 0; j < n; j++)
        for (let i = 0; i < n; i++) {
          const p = (cy - MOFFAT_R + j) * W + cx - MOFFAT_R + i;
          mi.image.data[p] = mi.image.data[p]! + flux * stamp[j * n + i]!;
        }
      truth.push({ x, y, flux });
    }
  }
  return { mi, truth };
}

describe('measure with an image PSF (cpu)', () => {
  afterAll(disposeBackends);

  it('Moffat stars: the kernel image gives unbiased PSF fluxes, the Gaussian does not', async () => {
    const cpu = cpuBackend();
    const psf = moffatKernel();
    const { mi, truth } = moffatField(9_000_001, 5);
    const sigma = psf.sigma;
    const det = await detect(cpu, mi, { psfSigma: sigma });
    const image = await measure(cpu, mi, det.positive!, {
      psf: {
        kind: 'image',
        width: psf.width,
        height: psf.height,
        values: psf.kernelValues(),
        sigma,
      },
    });
    const gauss = await measure(cpu, mi, det.positive!, { psf: { kind: 'gaussian', sigma } });
    const match = (m: MeasureResult) =>
      truth.map((t) => {
        let best = -1;
        for (let k = 0; k < m.count; k++)
          if (Math.hypot(m.x[k]! - t.x, m.y[k]! - t.y) < 1) best = k;
        return best;
      });
    const ki = match(image);
    expect(ki.filter((k) => k >= 0).length).toBe(truth.length);
    const ratio = truth.map((t, i) => image.psfFlux[ki[i]!]! / t.flux - 1);
    const pull = truth.map((t, i) => (image.psfFlux[ki[i]!]! - t.flux) / image.psfFluxErr[ki[i]!]!);
    expect(truth.length).toBeGreaterThan(150);
    expect(Math.abs(med(ratio))).toBeLessThan(0.005);
    expect(Math.abs(std(pull) - 1)).toBeLessThan(0.1);
    // At every sub-pixel phase: stars with a centroid near a pixel edge vs near a centre.
    const phase = truth.map((t) =>
      Math.max(Math.abs(t.x - Math.round(t.x)), Math.abs(t.y - Math.round(t.y))),
    );
    const edge = ratio.filter((_, i) => phase[i]! > 0.35);
    const centre = ratio.filter((_, i) => phase[i]! < 0.15);
    expect(edge.length).toBeGreaterThan(20);
    expect(centre.length).toBeGreaterThan(5);
    expect(Math.abs(med(edge))).toBeLessThan(0.005);
    expect(Math.abs(med(centre))).toBeLessThan(0.005);
    // The Gaussian of the Moffat's second-moment sigma is too wide in the core.
    const kg = match(gauss);
    expect(med(truth.map((t, i) => gauss.psfFlux[kg[i]!]! / t.flux - 1))).toBeGreaterThan(0.05);
    // Only the PSF flux differs: centroids, shapes and apertures use `sigma` alike.
    for (let k = 0; k < image.count; k++) {
      expect(image.x[k]).toBe(gauss.x[k]);
      expect(image.apFlux[3]![k]).toBe(gauss.apFlux[3]![k]);
    }
  });

  it('a Gaussian kernel image agrees with the gaussian kind', async () => {
    const cpu = cpuBackend();
    const sim = simulateCoadd({
      width: 300,
      height: 300,
      sources: 40,
      psfSigma: 2,
      noise: 5,
      snrMin: 30,
      margin: 20,
      seed: 9_000_002,
    });
    const det = await detect(cpu, sim.image, { psfSigma: 2 });
    // The gaussian kind uses the ceil(4 sigma) square; a 17 x 17 kernel covers it.
    const k = new Float64Array(17 * 17);
    for (let j = 0; j < 17; j++)
      for (let i = 0; i < 17; i++) k[j * 17 + i] = Math.exp(-((i - 8) ** 2 + (j - 8) ** 2) / 8);
    const a = await measure(cpu, sim.image, det.positive!, { psf: { kind: 'gaussian', sigma: 2 } });
    const b = await measure(cpu, sim.image, det.positive!, {
      psf: { kind: 'image', width: 17, height: 17, values: k, sigma: 2 },
    });
    expect(a.count).toBeGreaterThan(20);
    // The shifted kernel is the Gaussian at the centroid up to Lanczos-3 interpolation.
    for (let i = 0; i < a.count; i++) {
      expect(Math.abs(b.psfFlux[i]! / a.psfFlux[i]! - 1)).toBeLessThan(0.003);
      expect(Math.abs(b.psfFluxErr[i]! / a.psfFluxErr[i]! - 1)).toBeLessThan(0.003);
    }
  });

  it('refuses bad kernel images with a next step', async () => {
    const mi = MaskedImage.create(40, 40);
    mi.variance.data.fill(1);
    const det = await detect(cpuBackend(), mi, { psfSigma: 1 });
    const bad = (psf: Record<string, unknown>) =>
      expect(measure(cpuBackend(), mi, det.positive!, { psf } as never)).rejects.toThrow(/psf/);
    await bad({ kind: 'image', width: 4, height: 5, values: new Float64Array(20), sigma: 1 });
    await bad({ kind: 'image', width: 3, height: 3, values: new Float64Array(8), sigma: 1 });
    await bad({ kind: 'image', width: 3, height: 3, values: new Float64Array(9), sigma: 1 });
    await bad({
      kind: 'image',
      width: 3,
      height: 3,
      values: [1, 1, 1, 1, Number.NaN, 1, 1, 1, 1],
      sigma: 1,
    });
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

  it('the same footprints give the same measurements with an image PSF', async () => {
    const g = await webgpuOrNull();
    if (!g) return expect(backends).toHaveLength(1);
    const sim = simulateCoadd({
      width: 200,
      height: 180,
      sources: 70,
      psfSigma: 1.8,
      noise: 5,
      snrMin: 5,
      seed: TEST_SEED + 7,
    });
    sim.image.image.data[90 * 200 + 40] = Number.NaN;
    sim.image.mask.data[30 * 200 + 150] = 1;
    const det = await detect(cpuBackend(), sim.image, { psfSigma: 1.8 });
    // A lopsided 31 x 9 kernel: an offset second component catches a transposed or
    // mirrored template on either side; wider and lower than the 17-px fit square, so
    // both of the shader's kernel bounds are exercised.
    const w = 31;
    const h = 9;
    const k = new Float64Array(w * h);
    for (let j = 0; j < h; j++)
      for (let i = 0; i < w; i++) {
        const x = i - 15;
        const y = j - 4;
        k[j * w + i] =
          Math.exp(-(x * x) / (2 * 2.2 ** 2) - (y * y) / (2 * 1.6 ** 2)) +
          0.3 * Math.exp(-((x - 2) ** 2 + (y + 1) ** 2) / 2);
      }
    const params = {
      psf: { kind: 'image' as const, width: w, height: h, values: k, sigma: 1.8 },
      apertureRadii: [3, 7],
    };
    const a = await measure(cpuBackend(), sim.image, det.positive!, params);
    const b = await measure(g, sim.image, det.positive!, params);
    expect(a.count).toBeGreaterThan(20);
    expect(b.count).toBe(a.count);
    const bad: string[] = [];
    for (let i = 0; i < a.count; i++) {
      expect(b.flags[i]).toBe(a.flags[i]);
      const tol = 1e-5 * (Math.abs(a.psfFlux[i]!) + a.psfFluxErr[i]!);
      if (!(Math.abs(a.psfFlux[i]! - b.psfFlux[i]!) <= tol))
        bad.push(`psfFlux ${i}: ${a.psfFlux[i]} vs ${b.psfFlux[i]}`);
      if (!(Math.abs(a.psfFluxErr[i]! - b.psfFluxErr[i]!) <= 1e-5 * a.psfFluxErr[i]!))
        bad.push(`psfFluxErr ${i}: ${a.psfFluxErr[i]} vs ${b.psfFluxErr[i]}`);
    }
    expect(bad).toEqual([]);
    // And the template is the kernel, not its mirror: a mirrored kernel gives other fluxes.
    const mirrored = new Float64Array(w * h);
    for (let j = 0; j < h; j++)
      for (let i = 0; i < w; i++) mirrored[j * w + i] = k[(h - 1 - j) * w + (w - 1 - i)]!;
    const c = await measure(cpuBackend(), sim.image, det.positive!, {
      ...params,
      psf: { ...params.psf, values: mirrored },
    });
    expect(
      c.psfFlux.some((f, i) => Math.abs(f - a.psfFlux[i]!) > 1e-3 * Math.abs(a.psfFlux[i]!)),
    ).toBe(true);
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
