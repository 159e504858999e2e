/**
 * Coaddition accuracy on simulated data (issue 4): the simulator's calexps are warped
 * onto one patch grid (Lanczos3) and stacked; then, against the truth and the inputs:
 *   - bright stars keep their flux: coadd aperture flux over the weighted mean of
 *     the same sky aperture on the calexps, median within 0.5% of 1 with MEAN (MEANCLIP:
 *     within 1.5%; it clips PSF differences between visits in bright cores);
 *   - sky noise in the coadd matches the propagated variance within 5%;
 *   - unflagged cosmic rays and the satellite streak of single visits leave no residual
 *     above 5 sigma under MEANCLIP and MEDIAN (and do under MEAN: the test can fail);
 *   - MEAN and MEANCLIP agree wherever nothing was clipped.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/compute/cpu/cpu-backend.ts';
import { Box2I } from '../../src/geom/box.ts';
import { Wcs } from '../../src/geom/wcs.ts';
import type { Exposure } from '../../src/image/exposure.ts';
import type { MaskedImage } from '../../src/image/masked-image.ts';
import { type StackResult, stack } from '../../src/ops/stack/index.ts';
import { warp } from '../../src/ops/warp/index.ts';
import { simulate } from '../../src/sim/index.ts';
import { calexpsByVisit, readTruth, type TruthSource } from '../helpers/sim-calexps.ts';

const dir = mkdtempSync(join(tmpdir(), 'gpu-drp-coadd-'));
const cpu = new CpuBackend({ threads: 2 });
afterAll(async () => {
  await cpu.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const patch = {
  wcs: Wcs.fromScaleRotation({ crpix: [199.5, 199.5], crval: [150, 2.2], scale: 0.2, rotation: 0 }),
  bbox: new Box2I(0, 0, 400, 400),
};

let calexps: Exposure[][] = [];
const warps: MaskedImage[] = [];
let truth: TruthSource[] = [];
let artifacts: Array<{
  visit: number;
  streak: { x0: number; y0: number; x1: number; y1: number } | null;
  detectors: Array<{
    detector: number;
    cosmicRays: Array<{ flagged: boolean; pixels: number[][] }>;
  }>;
}> = [];
const coadds: Partial<Record<'MEAN' | 'MEANCLIP' | 'MEDIAN', StackResult>> = {};

beforeAll(async () => {
  const r = await simulate(
    {
      preset: 'tiny',
      seed: 20261127,
      visits: { count: 9, ditherArcsec: 4 },
      detector: { width: 448, height: 448 },
      focalPlane: { nx: 1, ny: 1 },
      streaks: { every: 4, peakSnr: 10 },
      cosmicRays: { unflaggedPerCcd: 6, unflaggedEvery: 2 },
      // Many bright stars, none saturated, no hot columns: the flux comparison needs clean
      // apertures on the calexps (masking is tested elsewhere).
      stars: { density: 80, slope: 0.2, brightPerCcd: 0 },
      badColumns: { perCcd: 0 },
      photometry: { saturation: 1e9 },
      output: { compress: 'none' },
    },
    { outDir: dir, threads: 2 },
  );
  calexps = await calexpsByVisit(dir, r.calexps);
  for (const es of calexps) {
    const w = await warp(
      cpu,
      es.map((e) => ({ maskedImage: e.maskedImage, wcs: e.wcs as Wcs })),
      patch,
    );
    warps.push(w.warp);
  }
  truth = readTruth(join(dir, r.files.truth));
  artifacts = JSON.parse(readFileSync(join(dir, r.files.artifacts), 'utf8'));
  for (const statistic of ['MEAN', 'MEANCLIP', 'MEDIAN'] as const)
    coadds[statistic] = await stack(cpu, warps, { statistic });
}, 240_000);

function aperture(mi: MaskedImage, x: number, y: number, r: number): number | null {
  let s = 0;
  for (let yy = Math.floor(y - r); yy <= Math.ceil(y + r); yy++) {
    for (let xx = Math.floor(x - r); xx <= Math.ceil(x + r); xx++) {
      if ((xx - x) ** 2 + (yy - y) ** 2 > r * r) continue;
      if (!mi.bbox.contains(xx, yy)) return null;
      const v = mi.image.get(xx, yy);
      if (!Number.isFinite(v)) return null;
      s += v;
    }
  }
  return s;
}

describe('coadd accuracy on simulated calexps (warp Lanczos3 + stack)', () => {
  it('bright stars keep their flux (median ratio within 0.5%)', () => {
    const R = 12;
    const weights = coadds.MEAN!.weights!;
    const onPatch = truth.map((t) => ({ ...t, ...patch.wcs.skyToPixel(t.ra, t.dec) }));
    const ratios: Record<string, number[]> = { MEAN: [], MEANCLIP: [] };
    const toTruth: number[] = [];
    for (const s of onPatch) {
      if (s.type !== 'star' || s.flux < 5e3 || s.flux > 4e5) continue;
      if (s.x < 30 || s.y < 30 || s.x > 370 || s.y > 370) continue;
      // Neighbours sit in both apertures alike; only the comparison with the truth needs
      // the star to dominate its aperture.
      const isolated = !onPatch.some(
        (o) => o !== s && o.flux > 0.01 * s.flux && Math.hypot(o.x - s.x, o.y - s.y) < R + 10,
      );
      // The same sky aperture on every calexp that holds it whole.
      // Only stars that every visit covers whole (with the kernel's reach to spare), so
      // that each coadd pixel of the aperture averages the same visits.
      let sw = 0;
      let sf = 0;
      let visits = 0;
      calexps.forEach((es, i) => {
        for (const e of es) {
          const p = (e.wcs as Wcs).skyToPixel(s.ra, s.dec);
          const f =
            aperture(e.maskedImage, p.x, p.y, R + 4) === null
              ? null
              : aperture(e.maskedImage, p.x, p.y, R);
          if (f !== null) {
            sw += weights[i] as number;
            sf += (weights[i] as number) * f;
            visits++;
          }
        }
      });
      if (visits !== calexps.length) continue;
      const expected = sf / sw;
      for (const stat of ['MEAN', 'MEANCLIP'] as const) {
        const f = aperture(coadds[stat]!.coadd, s.x, s.y, R);
        if (f !== null) ratios[stat]!.push(f / expected);
      }
      const fm = aperture(coadds.MEAN!.coadd, s.x, s.y, R);
      if (fm !== null && isolated) toTruth.push(fm / s.flux);
    }
    const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)] as number;
    expect(ratios.MEAN!.length).toBeGreaterThanOrEqual(8);
    expect(toTruth.length).toBeGreaterThanOrEqual(3);
    expect(Math.abs(med(ratios.MEAN!) - 1)).toBeLessThan(0.005);
    // Per-pixel clipping bites the differences between the visits' PSFs in bright cores
    // (the sharp visits' peaks, the broad visits' wings): measured +0.7% here, which is why
    // LSST assembles its deep coadds with CompareWarp rather than plain MEANCLIP.
    expect(Math.abs(med(ratios.MEANCLIP!) - 1)).toBeLessThan(0.015);
    // Against the truth: the 12-px aperture holds most but not all of the PSF.
    expect(med(toTruth)).toBeGreaterThan(0.9);
    expect(med(toTruth)).toBeLessThan(1.005);
  });

  it('sky noise in the coadd matches the propagated variance within 5%', () => {
    const c = coadds.MEANCLIP!.coadd;
    const onPatch = truth.map((t) => ({ ...t, ...patch.wcs.skyToPixel(t.ra, t.dec) }));
    let s2 = 0;
    let n = 0;
    for (let y = 20; y < 380; y += 2) {
      for (let x = 20; x < 380; x += 2) {
        if (
          onPatch.some((o) => Math.hypot(o.x - x, o.y - y) < 6 + 8 * Math.log10(1 + o.flux / 500))
        )
          continue;
        const v = c.image.get(x, y);
        const vr = c.variance.get(x, y);
        if (!Number.isFinite(v) || c.mask.get(x, y) !== 0) continue;
        s2 += (v * v) / vr;
        n++;
      }
    }
    expect(n).toBeGreaterThan(2000);
    expect(Math.abs(Math.sqrt(s2 / n) - 1)).toBeLessThan(0.05);
  });

  it('unflagged cosmic rays and the streak leave no residual above 5 sigma under MEANCLIP and MEDIAN', async () => {
    // Targets: unflagged CR pixels and streak points, mapped to the patch.
    const targets: Array<{ visit: number; x: number; y: number }> = [];
    artifacts.forEach((a, vi) => {
      const e = calexps[vi]![0]!;
      const wcs = e.wcs as Wcs;
      const toPatch = (px: number, py: number) => {
        const sky = wcs.pixelToSky(px, py);
        return patch.wcs.skyToPixel(sky.ra, sky.dec);
      };
      for (const d of a.detectors) {
        for (const cr of d.cosmicRays) {
          if (cr.flagged) continue;
          const [px, py] = cr.pixels[0] as number[];
          targets.push({ visit: vi, ...toPatch(px as number, py as number) });
        }
      }
      if (a.streak) {
        for (let t = 0.1; t < 1; t += 0.1) {
          targets.push({
            visit: vi,
            ...toPatch(
              a.streak.x0 + t * (a.streak.x1 - a.streak.x0),
              a.streak.y0 + t * (a.streak.y1 - a.streak.y0),
            ),
          });
        }
      }
    });
    const inside = targets.filter((t) => t.x > 10 && t.y > 10 && t.x < 390 && t.y < 390);
    expect(inside.filter((t) => artifacts[t.visit]!.streak === null).length).toBeGreaterThan(5);
    expect(inside.some((t) => artifacts[t.visit]!.streak !== null)).toBe(true);
    // Reference: the clipped mean of the other visits at the same pixel.
    const worst: Record<string, number> = { MEAN: 0, MEANCLIP: 0, MEDIAN: 0 };
    const refs = new Map<number, StackResult>();
    for (const t of inside) {
      if (!refs.has(t.visit))
        refs.set(
          t.visit,
          await stack(
            cpu,
            warps.filter((_, i) => i !== t.visit),
            { statistic: 'MEAN' },
          ),
        );
      const ref = refs.get(t.visit)!.coadd;
      const x = Math.round(t.x);
      const y = Math.round(t.y);
      for (const stat of ['MEAN', 'MEANCLIP', 'MEDIAN'] as const) {
        const c = coadds[stat]!.coadd;
        const d = (c.image.get(x, y) - ref.image.get(x, y)) / Math.sqrt(c.variance.get(x, y));
        if (Number.isFinite(d)) worst[stat] = Math.max(worst[stat]!, d);
      }
    }
    expect(worst.MEANCLIP).toBeLessThan(5);
    expect(worst.MEDIAN).toBeLessThan(5);
    // The plain mean keeps them: this test can fail.
    expect(worst.MEAN).toBeGreaterThan(5);
  });

  it('MEAN and MEANCLIP agree wherever nothing was clipped', () => {
    const mean = coadds.MEAN!.coadd;
    const clip = coadds.MEANCLIP!.coadd;
    const clipped = clip.mask.planes.bitMask('CLIPPED');
    let compared = 0;
    let clippedCount = 0;
    for (let i = 0; i < clip.image.data.length; i++) {
      if ((clip.mask.data[i] as number) & clipped) {
        clippedCount++;
        continue;
      }
      const a = mean.image.data[i] as number;
      if (!Number.isFinite(a)) continue;
      expect(clip.image.data[i]).toBe(a);
      compared++;
    }
    expect(compared).toBeGreaterThan(100000);
    expect(clippedCount).toBeGreaterThan(0);
  });
});
