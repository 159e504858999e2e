/**
 * `gpu-bench measure`: measurement alone (footprints detected once on the CPU, then
 * `measure` timed) on simulated coadds, per backend and size; `params` records the
 * source count and sources per second. Also `writeSampleCatalogs`, the fixture writer
 * that scripts/check-catalog-python.py reads back with astropy and pyarrow/pandas.
 */
import { join } from 'node:path';
import { writeCatalogFits } from '../src/catalog/fits.ts';
import { writeCatalogParquet } from '../src/catalog/parquet.ts';
import { CpuBackend } from '../src/compute/cpu/cpu-backend.ts';
import type { Backend } from '../src/compute/select.ts';
import { Wcs } from '../src/geom/wcs.ts';
import { background } from '../src/ops/background/index.ts';
import { detect } from '../src/ops/detect/index.ts';
import { measure, sourceCatalog } from '../src/ops/measure/index.ts';
import { simulateCoadd } from './detect.ts';
import { type BenchRecord, makeRecord, measureCase } from './harness.ts';

/** Options of `benchMeasure`. */
export interface MeasureBenchOptions {
  /** Image sides (square images). */
  readonly sizes: readonly number[];
  /** Sources per 4096x4096 (scaled by area); default 10,000. */
  readonly sourcesPer4k?: number;
  readonly psfSigma?: number;
  readonly repeats: number;
  readonly warmup: number;
  readonly budgetMs: number;
  readonly onRecord?: (r: BenchRecord) => void;
}

/**
 * Time `measure` on `backend`; with a `reference` backend, webgpu results are first
 * compared with it (PSF fluxes within 1e-5 x (|F| + err), flags equal).
 */
export async function benchMeasure(
  backend: Backend,
  reference: Backend | null,
  o: MeasureBenchOptions,
): Promise<BenchRecord[]> {
  const out: BenchRecord[] = [];
  const psfSigma = o.psfSigma ?? 2;
  const host = new CpuBackend({ threads: 0 });
  try {
    for (const size of o.sizes) {
      const sources = Math.round(((o.sourcesPer4k ?? 10_000) * size * size) / 4096 ** 2);
      const { image } = simulateCoadd({
        width: size,
        height: size,
        sources,
        psfSigma,
        noise: 10,
        sky: 1000,
        seed: 20260201 + size,
      });
      const bg = await background(host, image, {});
      const det = await detect(host, bg.subtracted, { psfSigma });
      const fp = det.positive;
      if (!fp) continue;
      const params = { psf: { kind: 'gaussian' as const, sigma: psfSigma } };
      const run = () => measure(backend, bg.subtracted, fp, params);
      let verified: boolean | null = null;
      if (backend.kind === 'webgpu' && reference) {
        const [a, b] = [await measure(reference, bg.subtracted, fp, params), await run()];
        verified = a.count === b.count;
        for (let k = 0; k < a.count && verified; k++) {
          const tol = 1e-5 * (Math.abs(a.psfFlux[k] as number) + (a.psfFluxErr[k] as number));
          if (a.flags[k] !== b.flags[k]) verified = false;
          else if (
            Number.isFinite(a.psfFlux[k]) &&
            !(Math.abs((a.psfFlux[k] as number) - (b.psfFlux[k] as number)) <= tol)
          )
            verified = false;
        }
      }
      const m = await measureCase(backend, run, o);
      const first = m.first as Awaited<ReturnType<typeof run>>;
      const rec = makeRecord(backend, m, o, {
        op: 'measure',
        width: size,
        height: size,
        params: {
          psf_sigma: psfSigma,
          sources: first.count,
          footprints: fp.count,
          sources_per_s: Math.round(first.count / (m.wall.median / 1e3)),
        },
        pixels: size * size,
        gpuBytes: null,
        verified,
      });
      out.push(rec);
      o.onRecord?.(rec);
    }
  } finally {
    await host.dispose();
  }
  return out;
}

/**
 * Detect and measure a small seeded simulated coadd (512x512, 150 stars, TAN WCS at
 * 0.2 arcsec/px) on the CPU and write its catalog as `sources.fits` and
 * `sources.parquet` under `dir`; returns the row count.
 */
export async function writeSampleCatalogs(dir: string): Promise<number> {
  const cpu = new CpuBackend({ threads: 1 });
  try {
    const { image } = simulateCoadd({
      width: 512,
      height: 512,
      sources: 150,
      psfSigma: 2,
      noise: 10,
      sky: 500,
      snrMin: 8,
      seed: 424242,
    });
    const bg = await background(cpu, image, {});
    const det = await detect(cpu, bg.subtracted, { psfSigma: 2 });
    const wcs = Wcs.fromScaleRotation({ crpix: [256, 256], crval: [150.1, 2.2], scale: 0.2 });
    const fp = det.positive;
    if (!fp) return 0;
    const m = await measure(cpu, bg.subtracted, fp, { psf: { kind: 'gaussian', sigma: 2 } }, wcs);
    const cat = sourceCatalog(m, { fluxUnit: 'nJy', metadata: { ORIGIN: 'gpu-drp' } });
    await writeCatalogFits(join(dir, 'sources.fits'), cat);
    await writeCatalogParquet(join(dir, 'sources.parquet'), cat);
    return cat.length;
  } finally {
    await cpu.dispose();
  }
}
