/**
 * The coadd does not depend on how the scheduler cuts the work: memory budgets that
 * force row bands for the warps and the stack, warps spilled to scratch files, several
 * devices (lanes) sharing the queue, and plain images with weight maps instead of
 * calexps all give the same files as the one-piece run.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/compute/cpu/cpu-backend.ts';
import { WebGpuBackend } from '../../src/compute/webgpu/webgpu-backend.ts';
import { Header } from '../../src/fits/header.ts';
import { writeFits } from '../../src/fits/writer.ts';
import { DiscreteSkyMap } from '../../src/geom/skymap.ts';
import { readExposure } from '../../src/image/exposure-fits.ts';
import { memoryBudget, planUnit } from '../../src/scheduler/budget.ts';
import { SchedulerError } from '../../src/scheduler/errors.ts';
import { expandGlob, scanInputs } from '../../src/scheduler/inputs.ts';
import { type CoaddUnit, planCoadds, skymapTargets } from '../../src/scheduler/plan.ts';
import { runCoadd, type UnitSummary } from '../../src/scheduler/run-coadd.ts';
import { cpuBackend, disposeBackends, webgpuOrNull } from '../helpers/backends.ts';

const fixtures = new URL('../../fixtures/sim/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gpu-drp-batch-'));
afterAll(async () => {
  await disposeBackends();
  rmSync(dir, { recursive: true, force: true });
});

async function units(paths = [join(fixtures, 'calexp')]): Promise<CoaddUnit[]> {
  const cfg = JSON.parse(readFileSync(join(fixtures, 'skymap.json'), 'utf8'));
  const { kind: _k, name: _n, ...rest } = cfg;
  const { inputs } = await scanInputs(paths);
  return planCoadds(inputs, skymapTargets(new DiscreteSkyMap(rest)));
}

const base = { statistic: 'MEANCLIP', kernel: 'lanczos3', threshold: 5, clobber: false } as const;

/** Every output file of a run (relative path -> bytes), summaries left out. */
function files(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), r);
      else if (e.name !== 'summary.json') out.set(r, readFileSync(join(d, e.name)));
    }
  };
  walk(root, '');
  return out;
}

function expectSameFiles(a: string, b: string): void {
  const fa = files(a);
  const fb = files(b);
  expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
  for (const [k, v] of fa) expect(fb.get(k)?.equals(v), k).toBe(true);
  // Not vacuous: coadds, catalogs and previews of every unit are compared.
  expect([...fa.keys()].filter((k) => k.endsWith('coadd.fits')).length).toBeGreaterThan(0);
}

describe('the coadd does not depend on how the work is cut', () => {
  it('budget planning: bands are whole multiples of 64 rows, and a hopeless budget is a clear error', () => {
    const budget = { deviceBytes: 3 * 2 ** 20, hostBytes: 2 ** 30 };
    const p = planUnit(500, 500, 4, 2 * 256 * 256, 'MEANCLIP', budget);
    expect(p.fused).toBe(false);
    expect(p.stackRows % 64).toBe(0);
    expect(p.stackRows).toBeLessThan(500);
    expect(p.stackRows * 500 * (4 * 12 + 16)).toBeLessThanOrEqual(budget.deviceBytes);
    expect(
      planUnit(500, 500, 4, 2 * 256 * 256, 'MEAN', { ...budget, deviceBytes: 2 ** 30 }),
    ).toMatchObject({ fused: true, spill: false });
    expect(
      planUnit(500, 500, 40, 1000, 'MEDIAN', { deviceBytes: 2 ** 30, hostBytes: 30e6 }).spill,
    ).toBe(true);
    expect(() =>
      planUnit(200_000, 200_000, 10, 1000, 'MEANCLIP', {
        deviceBytes: 2 ** 33,
        hostBytes: 2 ** 34,
      }),
    ).toThrow(/host memory for its coadd alone.*smaller patches/);
    expect(() =>
      planUnit(4000, 4000, 200, 1000, 'MEANCLIP', { deviceBytes: 2 ** 20, hostBytes: 2 ** 36 }),
    ).toThrow(SchedulerError);
    expect(() => memoryBudget(cpuBackend(), { deviceMiB: -1 })).toThrow(/positive number of MiB/);
  });

  it('cpu: row bands for warps and stacks, spilled warps and two lanes give the same files, bit for bit', async () => {
    const all = await units();
    const centre = all.filter((u) => u.target.key === 'tract0/patch1,1');
    const one = join(dir, 'one');
    await runCoadd(centre, { ...base, backend: cpuBackend(), outDir: one });

    const bandedOut = join(dir, 'banded');
    const [banded] = (await runCoadd(centre, {
      ...base,
      backend: cpuBackend(),
      outDir: bandedOut,
      budget: { deviceBytes: 3 * 2 ** 20, hostBytes: 2 ** 30 },
    })) as UnitSummary[];
    expect(banded?.plan.stackRows).toBe(64);
    expect(banded?.plan.warpRows).toBeLessThan(500);
    expectSameFiles(one, bandedOut);

    const spillOut = join(dir, 'spill');
    const [spilled] = (await runCoadd(centre, {
      ...base,
      backend: cpuBackend(),
      outDir: spillOut,
      budget: { deviceBytes: 2 ** 30, hostBytes: 8 * 2 ** 20 },
    })) as UnitSummary[];
    expect(spilled?.plan.spill).toBe(true);
    expectSameFiles(one, spillOut);
    // The scratch files are gone.
    expect(readdirSync(join(spillOut, 'tract0/patch1,1/r')).sort()).toEqual([
      'coadd.fits',
      'coverage.fits',
      'preview.png',
      'sources.fits',
      'sources.parquet',
      'summary.json',
    ]);

    // All nine patches on one lane and on two lanes.
    // (the one-lane run reads on the main thread; the others decode on worker threads)
    const oneLane = join(dir, 'lanes1');
    const twoLanes = join(dir, 'lanes2');
    await runCoadd(all, { ...base, backend: cpuBackend(), outDir: oneLane, readThreads: 0 });
    const a = new CpuBackend({ threads: 1 });
    const b = new CpuBackend({ threads: 1 });
    try {
      const r = await runCoadd(all, {
        ...base,
        backend: [a, b],
        outDir: twoLanes,
        readThreads: 2,
      });
      expect(r.map((u) => `${u.target} ${u.band}`)).toEqual(
        all.map((u) => `${u.target.key} ${u.band}`),
      );
    } finally {
      await a.dispose();
      await b.dispose();
    }
    expectSameFiles(oneLane, twoLanes);
  });

  it('webgpu: warps kept on the device, two devices, and row bands through the host give the same files bit for bit', async () => {
    const probe = await webgpuOrNull();
    if (!probe) return expect(process.env.CI).not.toBe('true');
    const all = await units();
    const some = all.filter(
      (u) => u.target.key.endsWith('patch1,1') || u.target.key.endsWith('patch0,1'),
    );
    const g1 = await WebGpuBackend.create();
    const g2 = await WebGpuBackend.create();
    try {
      const one = join(dir, 'gpu1');
      const two = join(dir, 'gpu2');
      const banded = join(dir, 'gpu-banded');
      await runCoadd(some, { ...base, backend: g1, outDir: one });
      await runCoadd(some, { ...base, backend: [g1, g2], outDir: two });
      await runCoadd(some, {
        ...base,
        backend: g1,
        outDir: banded,
        budget: { deviceBytes: 3 * 2 ** 20, hostBytes: 2 ** 30 },
      });
      expectSameFiles(one, two);
      expectSameFiles(one, banded);
      // The default budget keeps the warps on the device; the 3 MiB one cannot and cuts
      // the work in bands through the host. MEDIAN takes the same two paths.
      const summaries = (root: string) =>
        readdirSync(root, { recursive: true })
          .map(String)
          .filter((f) => f.endsWith('summary.json'))
          .sort()
          .map((f) => JSON.parse(readFileSync(join(root, f), 'utf8')) as UnitSummary);
      const plans = (root: string) => summaries(root).map((s) => s.plan);
      // Kept on the device, no warp crosses to the host and back: per unit N warps x 3
      // planes fewer bytes each way than through the host (down: less the 8 bytes per
      // 64-pixel chunk that each warp's weight reduction brings back).
      summaries(one).forEach((r, i) => {
        const h = summaries(banded)[i] as UnitSummary;
        const warpBytes = r.visits.length * 12 * r.bbox.width * r.bbox.height;
        expect(r.transfers && h.transfers).toBeTruthy();
        expect(h.transfers!.uploadBytes - r.transfers!.uploadBytes).toBeGreaterThanOrEqual(
          warpBytes,
        );
        const chunkSums = r.visits.length * 8 * Math.ceil(r.bbox.width / 64) * r.bbox.height;
        expect(h.transfers!.downloadBytes - r.transfers!.downloadBytes).toBeGreaterThanOrEqual(
          warpBytes - chunkSums,
        );
        expect(r.transfers!.deviceCopyBytes).toBeGreaterThanOrEqual(warpBytes);
      });
      // The device's busy time from timestamp queries (lavapipe has them): every unit's
      // passes timed, a share of its wall time.
      for (const r of summaries(one)) {
        if (!g1.hasTimestamps) {
          expect(r.deviceBusy).toBeNull();
          continue;
        }
        const b = r.deviceBusy!;
        expect(b.ms).toBeGreaterThan(0);
        expect(b.share).toBeGreaterThan(0);
        expect(b.share).toBeLessThanOrEqual(1);
        // fills, warps, weights per visit; stack bands; detection and measurement passes
        expect(b.passes).toBeGreaterThan(3 * r.visits.length);
        expect(b.untimedPasses).toBe(0);
      }
      expect(plans(one).map((p) => p.resident)).toEqual([true, true]);
      expect(plans(banded).map((p) => [p.resident, p.stackRows < 400])).toEqual([
        [false, true],
        [false, true],
      ]);
      const medOne = join(dir, 'gpu-median');
      const medBanded = join(dir, 'gpu-median-banded');
      await runCoadd(some, { ...base, statistic: 'MEDIAN', backend: g1, outDir: medOne });
      await runCoadd(some, {
        ...base,
        statistic: 'MEDIAN',
        backend: g1,
        outDir: medBanded,
        budget: { deviceBytes: 3 * 2 ** 20, hostBytes: 2 ** 30 },
      });
      expect(plans(medOne).map((p) => p.resident)).toEqual([true, true]);
      expectSameFiles(medOne, medBanded);
    } finally {
      await g1.dispose();
      await g2.dispose();
    }
  });

  it('plain images with SWarp weight maps coadd like the calexps they came from', async () => {
    // Convert each calexp to NAME.fits (image + its headers) + NAME.weight.fits (1/variance, 0 = masked).
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    const { inputs } = await scanInputs([join(fixtures, 'calexp')]);
    const badBits = (1 << 8) | 1 | 2 | (1 << 4); // NO_DATA, BAD, SAT, EDGE
    for (const i of inputs) {
      const e = await readExposure(i.path);
      const header = new Header();
      for (const c of e.wcs!.toFitsCards()) header.set(c.key, c.value);
      header.set('VISIT', i.visit);
      header.set('DETECTOR', i.detector);
      header.set('FILTER', i.band);
      const weight = new Float32Array(e.width * e.height);
      for (let p = 0; p < weight.length; p++) {
        const v = e.variance.data[p] as number;
        weight[p] = (e.mask.data[p] as number) & badBits || !(v > 0) ? 0 : 1 / v;
      }
      const name = `v${i.visit}-d${i.detector}`;
      await writeFits(join(plain, `${name}.fits`), [
        { header, data: e.image.data, shape: [e.width, e.height] },
      ]);
      await writeFits(join(plain, `${name}.weight.fits`), [
        { data: weight, shape: [e.width, e.height] },
      ]);
    }
    // A quoted glob picks the images and leaves the weight maps out.
    expect((await expandGlob(join(plain, 'v100?-d*.fits'))).length).toBe(16);
    const fromPlain = await units([join(plain, 'v100?-d*.fits')]);
    const fromCalexp = await units();
    expect(fromPlain.map((u) => `${u.target.key} ${u.visits.map((v) => v.visit)}`)).toEqual(
      fromCalexp.map((u) => `${u.target.key} ${u.visits.map((v) => v.visit)}`),
    );
    const centreP = fromPlain.filter((u) => u.target.key === 'tract0/patch1,1');
    const centreC = fromCalexp.filter((u) => u.target.key === 'tract0/patch1,1');
    const outP = join(dir, 'plain-out');
    const outC = join(dir, 'calexp-out');
    await runCoadd(centreP, { ...base, statistic: 'MEAN', backend: cpuBackend(), outDir: outP });
    await runCoadd(centreC, { ...base, statistic: 'MEAN', backend: cpuBackend(), outDir: outC });
    const p = await readExposure(join(outP, 'tract0/patch1,1/r/coadd.fits'));
    const c = await readExposure(join(outC, 'tract0/patch1,1/r/coadd.fits'));
    // The weight map turns BAD/SAT/EDGE pixels into "no data", which the warp treats
    // differently next to them (no value under a tap instead of a flagged one): compare
    // where both have data. The per-visit weights (1 / mean variance of good pixels) move
    // by ~0.03% with the pixel set, so values agree to ~1e-3 of the noise, not to
    // rounding; a wrong WCS, xy0 or weight convention would be off by a good part of it.
    let compared = 0;
    let agree = 0;
    for (let k = 0; k < c.image.data.length; k++) {
      const a = c.image.data[k] as number;
      const b = p.image.data[k] as number;
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      compared++;
      if (Math.abs(a - b) <= 1e-2 * Math.sqrt(c.variance.data[k] as number)) agree++;
    }
    expect(agree / compared).toBeGreaterThan(0.95);
    expect(compared).toBeGreaterThan(0.8 * c.image.data.length);
  });
});
