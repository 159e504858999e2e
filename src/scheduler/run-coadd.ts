/**
 * Runs a coadd plan: per (target, band), the visits' CCDs are read, warped and stacked
 * (MEAN takes the fused streaming path), then sources are detected and measured on the
 * coadd, and everything is written atomically under `<out>/<target>/<band>/`:
 * `coadd.fits` (Exposure: IMAGE, MASK, VARIANCE, WCS, PSF), `coverage.fits` (inputs per
 * pixel), `sources.parquet` and `sources.fits` (the catalog), `preview.png` (asinh
 * stretch, sources circled), and `summary.json` (written
 * last: a unit with a summary is finished, and re-runs skip it unless `clobber`).
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeCatalogFits } from '../catalog/fits.ts';
import { writeCatalogParquet } from '../catalog/parquet.ts';
import { CpuBackend } from '../compute/cpu/cpu-backend.ts';
import { ComputeError } from '../compute/errors.ts';
import type { Backend } from '../compute/select.ts';
import { writeFits } from '../fits/writer.ts';
import { Exposure } from '../image/exposure.ts';
import { readExposure, writeExposure } from '../image/exposure-fits.ts';
import { MaskedImage } from '../image/masked-image.ts';
import { encodePngGrey, stretch } from '../image/preview.ts';
import { GaussianPsf, kernelSizeForSigma } from '../image/psf.ts';
import { coaddMean } from '../ops/coadd/index.ts';
import { detect } from '../ops/detect/index.ts';
import { sourceCatalog } from '../ops/measure/catalog.ts';
import { measure } from '../ops/measure/index.ts';
import { type StackResult, stack } from '../ops/stack/index.ts';
import { warp } from '../ops/warp/index.ts';
import type { WarpSource } from '../ops/warp/spec.ts';
import type { CoaddUnit } from './plan.ts';

/** Options of a coadd run. */
export interface CoaddRunOptions {
  /** Where to compute; a lost GPU device (or its memory running out) falls back to the CPU. */
  readonly backend: Backend;
  readonly outDir: string;
  readonly statistic: 'MEAN' | 'MEANCLIP' | 'MEDIAN';
  readonly kernel: 'lanczos3' | 'lanczos4' | 'lanczos5' | 'bilinear';
  /** Detection threshold, in units of the smoothed per-pixel noise. */
  readonly threshold: number;
  /** Redo units that already have a summary. */
  readonly clobber: boolean;
  /** Progress: called when a unit starts and ends. */
  readonly onEvent?: (e: CoaddEvent) => void;
}

/** A progress event (units done / total, and what the unit took). */
export type CoaddEvent =
  | {
      readonly type: 'unit-start';
      readonly key: string;
      readonly band: string;
      readonly done: number;
      readonly total: number;
    }
  | {
      readonly type: 'fallback';
      readonly key: string;
      readonly band: string;
      readonly reason: string;
    }
  | {
      readonly type: 'unit-done';
      readonly key: string;
      readonly band: string;
      readonly done: number;
      readonly total: number;
      readonly skipped: boolean;
      readonly ms: number;
      readonly sources: number;
    };

/** What one unit produced (also its summary.json). */
export interface UnitSummary {
  readonly target: string;
  readonly band: string;
  readonly statistic: string;
  readonly kernel: string;
  readonly visits: ReadonlyArray<{ visit: number; ccds: string[] }>;
  readonly bbox: { minX: number; minY: number; width: number; height: number };
  readonly psfSigma: number;
  readonly sources: number;
  readonly coveredPixels: number;
  readonly timingsMs: Readonly<Record<string, number>>;
  readonly files: Readonly<Record<string, string>>;
}

async function atomicBytes(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

async function atomicJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}

/** Run every unit; returns the summaries (skipped units read back as `skipped`). */
export async function runCoadd(
  units: readonly CoaddUnit[],
  o: CoaddRunOptions,
): Promise<Array<UnitSummary | { target: string; band: string; skipped: true }>> {
  const out: Array<UnitSummary | { target: string; band: string; skipped: true }> = [];
  let done = 0;
  let backend = o.backend;
  let cpuFallback: CpuBackend | null = null;
  try {
    for (const unit of units) {
      const dir = join(o.outDir, unit.target.key, unit.band);
      const summaryPath = join(dir, 'summary.json');
      o.onEvent?.({
        type: 'unit-start',
        key: unit.target.key,
        band: unit.band,
        done,
        total: units.length,
      });
      if (!o.clobber && existsSync(summaryPath)) {
        done++;
        out.push({ target: unit.target.key, band: unit.band, skipped: true });
        o.onEvent?.({
          type: 'unit-done',
          key: unit.target.key,
          band: unit.band,
          done,
          total: units.length,
          skipped: true,
          ms: 0,
          sources: 0,
        });
        continue;
      }
      const t0 = performance.now();
      let s: UnitSummary;
      try {
        s = await runUnit(unit, dir, o, backend);
      } catch (e) {
        // A lost device or exhausted GPU memory: redo this unit, and the rest, on the CPU.
        if (
          backend.kind !== 'webgpu' ||
          !(e instanceof ComputeError) ||
          !FALLBACK_CODES.has(e.code)
        )
          throw e;
        o.onEvent?.({ type: 'fallback', key: unit.target.key, band: unit.band, reason: e.message });
        cpuFallback ??= new CpuBackend({});
        backend = cpuFallback;
        s = await runUnit(unit, dir, o, backend);
      }
      await atomicJson(summaryPath, s);
      done++;
      out.push(s);
      o.onEvent?.({
        type: 'unit-done',
        key: unit.target.key,
        band: unit.band,
        done,
        total: units.length,
        skipped: false,
        ms: performance.now() - t0,
        sources: s.sources,
      });
    }
  } finally {
    await cpuFallback?.dispose();
  }
  return out;
}

/** Compute errors after which the scheduler retries on the CPU backend. */
const FALLBACK_CODES = new Set([
  'GPU_DEVICE_LOST',
  'GPU_OUT_OF_MEMORY',
  'GPU_INTERNAL',
  'BACKEND_DISPOSED',
]);

async function runUnit(
  unit: CoaddUnit,
  dir: string,
  o: CoaddRunOptions,
  backend: Backend,
): Promise<UnitSummary> {
  const t: Record<string, number> = {};
  const lap = (name: string, t0: number) => {
    t[name] = (t[name] ?? 0) + (performance.now() - t0);
  };
  const { target } = unit;
  const scale = target.wcs.pixelScale();
  let psfSum = 0;
  let psfN = 0;
  // Read each visit's CCDs only when it is its turn (one visit in memory at a time for MEAN).
  const readVisit = async (
    inputs: CoaddUnit['visits'][number]['inputs'],
  ): Promise<WarpSource[]> => {
    const t0 = performance.now();
    const sources: WarpSource[] = [];
    for (const i of inputs) {
      const e = await readExposure(i.path);
      sources.push({ maskedImage: e.maskedImage, wcs: e.wcs ?? i.wcs });
      if (i.psfSigma !== null) {
        psfSum += (i.psfSigma * i.wcs.pixelScale()) / scale;
        psfN++;
      }
    }
    lap('read', t0);
    return sources;
  };
  let result: StackResult;
  if (o.statistic === 'MEAN') {
    const visits: WarpSource[][] = [];
    for (const v of unit.visits) visits.push(await readVisit(v.inputs));
    const t0 = performance.now();
    result = await coaddMean(backend, visits, target, { warp: { kernel: o.kernel } });
    lap('warp+stack', t0);
  } else {
    const warps: MaskedImage[] = [];
    for (const v of unit.visits) {
      const sources = await readVisit(v.inputs);
      const t0 = performance.now();
      warps.push((await warp(backend, sources, target, { kernel: o.kernel })).warp);
      lap('warp', t0);
    }
    const t0 = performance.now();
    result = await stack(backend, warps, { statistic: o.statistic });
    lap('stack', t0);
  }
  const psfSigma = psfN > 0 ? psfSum / psfN : 2;
  let t0 = performance.now();
  const det = await detect(backend, result.coadd, { psfSigma, thresholdValue: o.threshold });
  lap('detect', t0);
  t0 = performance.now();
  const mi = new MaskedImage(result.coadd.image, det.mask, result.coadd.variance);
  const m = det.positive
    ? await measure(
        backend,
        mi,
        det.positive,
        { psf: { kind: 'gaussian', sigma: psfSigma } },
        target.wcs,
      )
    : null;
  lap('measure', t0);
  t0 = performance.now();
  await mkdir(dir, { recursive: true });
  const size = kernelSizeForSigma(psfSigma);
  const exposure = new Exposure(mi, {
    wcs: target.wcs,
    psf: new GaussianPsf(size, size, psfSigma),
  });
  const files: Record<string, string> = { coadd: 'coadd.fits', coverage: 'coverage.fits' };
  await writeExposure(join(dir, files.coadd as string), exposure);
  await writeFits(join(dir, files.coverage as string), [
    { data: result.coverage, shape: [target.bbox.width, target.bbox.height], name: 'COVERAGE' },
  ]);
  let sources = 0;
  if (m) {
    const cat = sourceCatalog(m, { fluxUnit: 'nJy' });
    sources = cat.length;
    files.parquet = 'sources.parquet';
    files.fits = 'sources.fits';
    await writeCatalogParquet(join(dir, files.parquet), cat);
    await writeCatalogFits(join(dir, files.fits), cat);
  }
  // A quick look: asinh stretch, detected sources circled.
  const circles = m ? Array.from(m.x, (x, i) => ({ x, y: m.y[i] as number, r: 4 * psfSigma })) : [];
  const view = stretch(result.coadd.image, { circles, bin: target.bbox.width > 2000 ? 2 : 1 });
  files.preview = 'preview.png';
  await atomicBytes(join(dir, files.preview), encodePngGrey(view.width, view.height, view.grey));
  lap('write', t0);
  return {
    target: target.key,
    band: unit.band,
    statistic: o.statistic,
    kernel: o.kernel,
    visits: unit.visits.map((v) => ({ visit: v.visit, ccds: v.inputs.map((i) => i.path) })),
    bbox: {
      minX: target.bbox.minX,
      minY: target.bbox.minY,
      width: target.bbox.width,
      height: target.bbox.height,
    },
    psfSigma,
    sources,
    coveredPixels: result.coverage.reduce((a, c) => a + (c > 0 ? 1 : 0), 0),
    timingsMs: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)])),
    files,
  };
}
