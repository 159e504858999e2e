import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscreteSkyMap } from '../../src/geom/skymap.ts';
import type { Exposure } from '../../src/image/exposure.ts';
import { readExposure } from '../../src/image/exposure-fits.ts';
import {
  fluxForSnr,
  planSimulation,
  renderCalexp,
  renderPsfStamp,
  resolveSimConfig,
  type SimPlan,
  SOURCE_TYPE,
  simulate,
  Xoshiro128,
} from '../../src/sim/index.ts';

const plan = planSimulation(resolveSimConfig({ preset: 'tiny' }));
const W = plan.config.detector.width;
const H = plan.config.detector.height;
const calexps = new Map<string, Exposure>();
function calexp(v: number, d: number): Exposure {
  const key = `${v}/${d}`;
  let e = calexps.get(key);
  if (!e) {
    e = renderCalexp(plan, v, d);
    calexps.set(key, e);
  }
  return e;
}

interface OnCcd {
  readonly s: number;
  readonly x: number;
  readonly y: number;
  readonly flux: number;
}

/** Sources whose truth position falls on CCD (v, d), with pixel positions from the CCD WCS. */
function sourcesOn(p: SimPlan, v: number, d: number, margin: number): OnCcd[] {
  const wcs = p.ccd(v, d).wcs;
  const out: OnCcd[] = [];
  for (let s = 0; s < p.truth.size; s++) {
    const { x, y } = wcs.skyToPixel(p.truth.ra[s]!, p.truth.dec[s]!);
    if (x > -margin && y > -margin && x < W - 1 + margin && y < H - 1 + margin) {
      out.push({ s, x, y, flux: p.truth.flux[s]! });
    }
  }
  return out;
}

/** Bright stars with no other source within `clear` pixels and a clean box of half-size h. */
function isolatedStars(v: number, d: number, minSnr: number, h: number, clear: number) {
  const all = sourcesOn(plan, v, d, 60);
  const exp = calexp(v, d);
  const ccd = plan.ccd(v, d);
  const unflagged = ccd.cosmicRays.filter((c) => !c.flagged).flatMap((c) => c.pixels);
  const minFlux = fluxForSnr(minSnr, 1.6, plan.skySigmaElectrons ** 2) * plan.nJyPerElectron;
  return all.filter((a) => {
    if (plan.truth.type[a.s] !== SOURCE_TYPE.star || a.flux < minFlux) return false;
    const px = Math.round(a.x);
    const py = Math.round(a.y);
    if (px - h < 0 || py - h < 0 || px + h >= W || py + h >= H) return false;
    if (all.some((b) => b !== a && Math.hypot(b.x - a.x, b.y - a.y) < clear)) return false;
    if (unflagged.some(([x, y]) => Math.abs(x - px) <= h && Math.abs(y - py) <= h)) return false;
    for (let y = py - h; y <= py + h; y++)
      for (let x = px - h; x <= px + h; x++) if (exp.mask.get(x, y) !== 0) return false;
    return true;
  });
}

const noStreak = plan.visits.filter((v) => !v.streak).map((v) => v.index);

describe('simulator plan and truth', () => {
  it('star fluxes span S/N 3 to 1000 at the preset depth; galaxies have Sersic-like shapes', () => {
    const t = plan.truth;
    const kappa = plan.nJyPerElectron;
    const refSigma = (0.6 + 1.2) / 2 / 0.2 / 2.3548200450309493;
    const v = plan.skySigmaElectrons ** 2;
    let minStar = Infinity;
    let maxStar = 0;
    let galaxies = 0;
    for (let i = 0; i < t.size; i++) {
      if (t.type[i] === SOURCE_TYPE.star) {
        minStar = Math.min(minStar, t.flux[i]!);
        maxStar = Math.max(maxStar, t.flux[i]!);
      } else {
        galaxies++;
        expect(t.sersicN[i]).toBeGreaterThanOrEqual(0.5);
        expect(t.sersicN[i]).toBeLessThanOrEqual(4);
        expect(t.rHalf[i]).toBeGreaterThanOrEqual(0.15);
        expect(t.ellipticity[i]).toBeLessThanOrEqual(0.6);
      }
    }
    expect(minStar).toBeGreaterThanOrEqual(fluxForSnr(3, refSigma, v) * kappa * 0.999);
    expect(maxStar).toBeLessThanOrEqual(fluxForSnr(1000, refSigma, v) * kappa * 1.001);
    expect(maxStar / minStar).toBeGreaterThan(100);
    expect(galaxies).toBeGreaterThan(100);
    // fluxForSnr solves F^2 = snr^2 (F + 4 pi sigma^2 v).
    const f = fluxForSnr(10, 2, 100);
    expect(f * f).toBeCloseTo(100 * (f + 4 * Math.PI * 4 * 100), 6);
  });

  it('visits differ in pointing, rotation and PSF, within the configured ranges', () => {
    const fwhm = plan.visits.map((v) => v.fwhmArcsec);
    for (const f of fwhm) {
      expect(f).toBeGreaterThanOrEqual(0.6);
      expect(f).toBeLessThanOrEqual(1.2);
    }
    expect(new Set(plan.visits.map((v) => v.psf.model))).toEqual(new Set(['gaussian', 'moffat']));
    expect(new Set(plan.visits.map((v) => v.rotation.toFixed(3))).size).toBe(4);
    expect(plan.visits.filter((v) => v.streak).length).toBe(1);
    expect(plan.visits.filter((v) => v.unflaggedCosmicRays).length).toBe(2);
    const wcs = plan.ccd(0, 0).wcs;
    expect(wcs.hasSip).toBe(true);
    expect(wcs.pixelScale(W / 2, H / 2)).toBeCloseTo(0.2, 3);
  });

  it('the skymap tract covers every CCD', async () => {
    const { skymapConfig } = await import('../../src/sim/index.ts');
    const cfg = skymapConfig(plan) as { centers: { ra: number; dec: number }[]; radii: number[] };
    const sky = new DiscreteSkyMap({ centers: cfg.centers, radii: cfg.radii, pixelScale: 0.2 });
    const tract = sky.tract(0);
    for (let v = 0; v < 4; v++) {
      for (let d = 0; d < 2; d++) {
        for (const corner of plan.ccd(v, d).wcs.skyPolygon(plan.ccd(v, d).bbox)) {
          expect(tract.contains(corner.ra, corner.dec)).toBe(true);
        }
      }
    }
  });

  it('rejects bad configurations with SIM_BAD_CONFIG', () => {
    expect(() => resolveSimConfig({ visits: { count: 0 } })).toThrow(/visits.count/);
    expect(() => resolveSimConfig({ psf: { fwhmMin: 2, fwhmMax: 1 } })).toThrow(/fwhmMin/);
    expect(() => resolveSimConfig({ preset: 'huge' as 'tiny' })).toThrow(/unknown preset/);
    expect(() => resolveSimConfig({ nonsense: 1 } as never)).toThrow(/SIM|nonsense|Unrecognized/i);
    const medium = resolveSimConfig({ preset: 'medium', seed: 9 });
    expect(medium.detector).toEqual({ width: 2048, height: 2048 });
    expect(medium.visits.count).toBe(8);
    expect(medium.seed).toBe(9);
  });

  it('the PRNG is deterministic, uniform and has the right Poisson and normal moments', () => {
    const a = new Xoshiro128([1, 2, 3]);
    const b = new Xoshiro128([1, 2, 3]);
    const c = new Xoshiro128([1, 2, 4]);
    const sa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(sa);
    const r = new Xoshiro128([7]);
    for (const lambda of [0.7, 4, 35, 900, 60000]) {
      let s = 0;
      let s2 = 0;
      const n = 40000;
      for (let i = 0; i < n; i++) {
        const k = r.poisson(lambda);
        s += k;
        s2 += k * k;
      }
      const mean = s / n;
      const variance = s2 / n - mean * mean;
      expect(Math.abs(mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / n));
      expect(variance / lambda).toBeGreaterThan(0.96);
      expect(variance / lambda).toBeLessThan(1.04);
    }
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < 40000; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / 40000)).toBeLessThan(0.025);
    expect(s2 / 40000).toBeGreaterThan(0.97);
    expect(s2 / 40000).toBeLessThan(1.03);
  });
});

describe('rendered calexps', () => {
  it('are deterministic: same seed same bits, different seed different pixels', () => {
    const again = renderCalexp(planSimulation(resolveSimConfig({ preset: 'tiny' })), 1, 1);
    expect(
      Buffer.from(again.image.data.buffer).equals(Buffer.from(calexp(1, 1).image.data.buffer)),
    ).toBe(true);
    expect(
      Buffer.from(again.variance.data.buffer).equals(
        Buffer.from(calexp(1, 1).variance.data.buffer),
      ),
    ).toBe(true);
    expect(
      Buffer.from(again.mask.data.buffer).equals(Buffer.from(calexp(1, 1).mask.data.buffer)),
    ).toBe(true);
    const other = renderCalexp(planSimulation(resolveSimConfig({ preset: 'tiny', seed: 2 })), 1, 1);
    let differ = 0;
    for (let i = 0; i < other.image.data.length; i++)
      if (other.image.data[i] !== again.image.data[i]) differ++;
    expect(differ).toBeGreaterThan(0.99 * W * H);
  });

  it('noise matches the variance plane: chi^2/dof = 1 within 2% on blank sky, mean 0', () => {
    const blank = planSimulation(
      resolveSimConfig({
        preset: 'tiny',
        stars: { density: 0, brightPerCcd: 0 },
        galaxies: { density: 0 },
        cosmicRays: { perMegapixel: 0, unflaggedPerCcd: 0 },
        streaks: { every: 0 },
        badColumns: { perCcd: 0 },
      }),
    );
    for (const v of [0, 1]) {
      const e = renderCalexp(blank, v, 0);
      let chi2 = 0;
      let sum = 0;
      let varSum = 0;
      const n = e.image.data.length;
      for (let i = 0; i < n; i++) {
        const x = e.image.data[i]!;
        chi2 += (x * x) / e.variance.data[i]!;
        sum += x;
        varSum += e.variance.data[i]!;
      }
      expect(chi2 / n).toBeGreaterThan(0.98);
      expect(chi2 / n).toBeLessThan(1.02);
      const sigma = Math.sqrt(varSum / n);
      expect(Math.abs(sum / n)).toBeLessThan((5 * sigma) / Math.sqrt(n));
      // The variance is (sky + read noise^2) in nJy^2.
      expect(varSum / n / (blank.skySigmaElectrons * blank.nJyPerElectron) ** 2).toBeCloseTo(1, 1);
      expect(e.mask.data.every((m) => m === 0)).toBe(true);
    }
  });

  it('star fluxes in the image match truth (box sums within noise)', () => {
    const pulls: number[] = [];
    let sumMeasured = 0;
    let sumExpected = 0;
    let sumVariance = 0;
    for (const v of noStreak) {
      for (let d = 0; d < 2; d++) {
        const visit = plan.visits[v]!;
        const h = Math.ceil(2.5 * (visit.fwhmArcsec / 0.2));
        const exp = calexp(v, d);
        for (const star of isolatedStars(v, d, 30, h, h + 12)) {
          const px = Math.round(star.x);
          const py = Math.round(star.y);
          const r = visit.psfRadius;
          const n = 2 * r + 1;
          const stamp = new Float64Array(n * n);
          renderPsfStamp(visit.psf, star.x, star.y, r, stamp, new Float64Array(2 * n));
          let expected = 0;
          let sum = 0;
          let variance = 0;
          for (let y = py - h; y <= py + h; y++) {
            for (let x = px - h; x <= px + h; x++) {
              sum += exp.image.get(x, y);
              variance += exp.variance.get(x, y);
              expected += stamp[(y - py + r) * n + (x - px + r)]!;
            }
          }
          const pull = (sum - star.flux * expected) / Math.sqrt(variance);
          pulls.push(pull);
          sumMeasured += sum;
          sumExpected += star.flux * expected;
          sumVariance += variance;
          expect(Math.abs(pull), `star ${star.s} visit ${v} det ${d}`).toBeLessThan(5);
        }
      }
    }
    expect(pulls.length).toBeGreaterThanOrEqual(5);
    const mean = pulls.reduce((a, b) => a + b, 0) / pulls.length;
    expect(Math.abs(mean)).toBeLessThan(1.5);
    // All stars together: the flux scale is right to about 2% (4 sigma).
    const ratioError = Math.sqrt(sumVariance) / sumExpected;
    expect(ratioError).toBeLessThan(0.007);
    expect(Math.abs(sumMeasured / sumExpected - 1)).toBeLessThan(Math.max(4 * ratioError, 0.002));
  });

  it('the WCS maps truth ra/dec to where stars are: centroids within 0.05 px', () => {
    let checked = 0;
    for (const v of noStreak) {
      for (let d = 0; d < 2; d++) {
        const exp = calexp(v, d);
        const sigma = exp.psf!.sigma;
        for (const star of isolatedStars(v, d, 150, 8, 20)) {
          // Iterated Gaussian-weighted centroid (weight sigma = PSF sigma).
          let cx = Math.round(star.x);
          let cy = Math.round(star.y);
          for (let it = 0; it < 30; it++) {
            let sw = 0;
            let sx = 0;
            let sy = 0;
            for (let y = Math.round(cy) - 8; y <= Math.round(cy) + 8; y++) {
              for (let x = Math.round(cx) - 8; x <= Math.round(cx) + 8; x++) {
                const w =
                  Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma * sigma)) *
                  exp.image.get(x, y);
                sw += w;
                sx += w * x;
                sy += w * y;
              }
            }
            cx = sx / sw;
            cy = sy / sw;
          }
          expect(
            Math.hypot(cx - star.x, cy - star.y),
            `star ${star.s} visit ${v} det ${d}`,
          ).toBeLessThan(0.05);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  it('sets masks where documented: BAD columns, CR|INTRP for flagged cosmic rays, SAT', () => {
    let saturated = 0;
    for (let v = 0; v < 4; v++) {
      for (let d = 0; d < 2; d++) {
        const exp = calexp(v, d);
        const ccd = plan.ccd(v, d);
        const bad = exp.mask.bitMask('BAD');
        const crBits = exp.mask.bitMask('CR', 'INTRP');
        const sat = exp.mask.bitMask('SAT');
        const expectBad = new Set<number>();
        for (const bc of ccd.badColumns)
          for (let y = bc.y0; y <= bc.y1; y++) expectBad.add(y * W + bc.x);
        const expectCr = new Set<number>();
        for (const cr of ccd.cosmicRays)
          if (cr.flagged) for (const [x, y] of cr.pixels) expectCr.add(y * W + x);
        const satLevel =
          (plan.config.photometry.saturation * plan.config.photometry.gain -
            plan.skyElectrons * 1.02) *
          plan.nJyPerElectron;
        let wrong = 0;
        for (let i = 0; i < W * H; i++) {
          const m = exp.mask.data[i]!;
          if (((m & bad) !== 0) !== expectBad.has(i)) wrong++;
          if (((m & crBits) === crBits) !== expectCr.has(i)) wrong++;
          if (m & sat) {
            saturated++;
            if (!(exp.image.data[i]! > satLevel)) wrong++;
          } else if (!(exp.image.data[i]! < satLevel)) {
            wrong++;
          }
        }
        expect(wrong, `visit ${v} detector ${d}`).toBe(0);
        expect(expectBad.size).toBeGreaterThan(0);
        // Unflagged cosmic rays stay in the pixels, unmasked.
        for (const cr of ccd.cosmicRays.filter((c) => !c.flagged)) {
          const [x, y, e] = cr.pixels[0]!;
          expect(exp.mask.get(x, y) & crBits).toBe(0);
          expect(exp.image.get(x, y)).toBeGreaterThan(0.5 * e * plan.nJyPerElectron);
        }
        expect(ccd.cosmicRays.filter((c) => !c.flagged).length).toBe(
          plan.visits[v]!.unflaggedCosmicRays ? 3 : 0,
        );
      }
    }
    expect(saturated).toBeGreaterThan(0);
  });

  it('the streak is in the pixels of its visit and not masked', () => {
    const v = plan.visits.find((x) => x.streak)!;
    let onLine = 0;
    let total = 0;
    for (let d = 0; d < 2; d++) {
      const exp = calexp(v.index, d);
      const ccd = plan.ccd(v.index, d);
      const a = ccd.wcs.skyToPixel(v.streak!.start.ra, v.streak!.start.dec);
      const b = ccd.wcs.skyToPixel(v.streak!.end.ra, v.streak!.end.dec);
      const len = Math.hypot(b.x - a.x, b.y - a.y);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const dist = Math.abs((x - a.x) * (b.y - a.y) - (y - a.y) * (b.x - a.x)) / len;
          if (dist < 0.5 && exp.mask.get(x, y) === 0) {
            total += exp.image.get(x, y) / Math.sqrt(exp.variance.get(x, y));
            onLine++;
          }
        }
      }
    }
    expect(onLine).toBeGreaterThan(100);
    // Peak 8 sigma of sky noise, sampled within half a pixel of the centre line.
    expect(total / onLine).toBeGreaterThan(5);
  });

  it('carries WCS, PSF, calibration and visit info', () => {
    const exp = calexp(2, 1);
    const visit = plan.visits[2]!;
    expect(exp.photoCalib?.calibrationMean).toBe(1);
    expect(exp.visitInfo).toMatchObject({
      visit: 1002,
      detector: 1,
      band: 'r',
      instrument: 'SimCam',
      exposureTime: 30,
    });
    expect(exp.visitInfo?.rotationAngle).toBe(visit.rotation);
    expect(exp.metadata.get('BUNIT')).toBe('nJy');
    expect(exp.psf?.width).toBe(2 * visit.psfRadius + 1);
    // The PSF model's FWHM (from second moments) tracks the visit's seeing.
    const fwhmPx = visit.fwhmArcsec / 0.2;
    expect(exp.psf!.fwhm / fwhmPx).toBeGreaterThan(0.9);
    // (Moffat wings make the second-moment FWHM larger than the core's.)
    expect(exp.psf!.fwhm / fwhmPx).toBeLessThan(visit.psf.model === 'moffat' ? 2.2 : 1.1);
  });
});

describe('simulate() on disk', () => {
  let dirA: string;
  let dirB: string;
  beforeAll(async () => {
    dirA = await mkdtemp(join(tmpdir(), 'sim-a-'));
    dirB = await mkdtemp(join(tmpdir(), 'sim-b-'));
  });
  afterAll(async () => {
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  });

  it('writes byte-identical files whatever the thread count; calexps read back equal the in-memory render', async () => {
    const a = await simulate({ preset: 'tiny' }, { outDir: dirA, threads: 1 });
    const b = await simulate({ preset: 'tiny' }, { outDir: dirB, threads: 2 });
    expect(a.calexps.length).toBe(8);
    expect(b.calexps.map((c) => c.sha256)).toEqual(a.calexps.map((c) => c.sha256));
    for (const f of [
      a.files.manifest,
      a.files.truth,
      a.files.visits,
      a.files.artifacts,
      a.files.skymap,
    ]) {
      expect((await readFile(join(dirB, f))).equals(await readFile(join(dirA, f))), f).toBe(true);
    }
    const first = a.calexps[0]!;
    const bytes = await readFile(join(dirA, first.path));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(first.sha256);
    const back = await readExposure(join(dirA, first.path));
    const mem = calexp(0, 0);
    expect(Buffer.from(back.image.data.buffer).equals(Buffer.from(mem.image.data.buffer))).toBe(
      true,
    );
    expect(back.wcs!.pixelToSky(10, 20)).toEqual(mem.wcs!.pixelToSky(10, 20));
    expect(back.visitInfo).toEqual(mem.visitInfo);
    const csv = (await readFile(join(dirA, a.files.truth), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe(
      'id,type,ra_deg,dec_deg,flux_njy,mag_ab,sersic_n,r_half_arcsec,ellipticity,pa_deg',
    );
    expect(csv.length - 1).toBe(plan.truth.size);
    const row = csv[1]!.split(',');
    expect(Number(row[2])).toBeCloseTo(plan.truth.ra[0]!, 9);
    expect(Number(row[4])).toBeCloseTo(plan.truth.flux[0]!, 3);
  });
});
