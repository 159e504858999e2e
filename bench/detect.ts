/**
 * `gpu-bench detect`: background + detection + measurement of a simulated coadd, per
 * backend and size; one record per (backend, size) with `median_ms` for the whole and
 * the stage times (medians, ms) in `params`.
 *
 * The simulated coadd (also used by the accuracy tests): a sky level with a gentle
 * gradient, Gaussian noise of constant variance (a sky-dominated coadd), and point
 * sources rendered with the point-sampled circular Gaussian PSF
 * flux * exp(-r^2 / 2 sigma^2) / (2 pi sigma^2) (the model measure's PSF flux uses), at
 * uniform random positions with Euclidean number counts, N(> S/N) proportional to
 * (S/N)^-1.5 between snrMin and snrMax (S/N of the optimal PSF flux:
 * flux / (noise * sqrt(4 pi) * sigma)), so bright stars are rare as on the sky.
 *
 * When Source Extractor (Debian's `source-extractor`, or `sex`) is on PATH, the same
 * image is also written as FITS and run through it with comparable settings (128-px
 * background mesh, a Gaussian filter of the PSF's sigma, a threshold of 5 sigma of the
 * smoothed noise as ours (DETECT_THRESH 5 sqrt(sum k^2) / sum k, since Source Extractor
 * measures it in unfiltered-noise units), minimum area 1, its default deblending, the
 * backend's thread count); its wall time (median, ms) and source count go into
 * the record's params as `sextractor_ms` and `sextractor_sources`. Absent: skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Backend } from '../src/compute/select.ts';
import { writeFits } from '../src/fits/index.ts';
import { MaskedImage } from '../src/image/masked-image.ts';
import { background } from '../src/ops/background/index.ts';
import { detect } from '../src/ops/detect/index.ts';
import { measure } from '../src/ops/measure/index.ts';
import { type BenchRecord, machineFacts, median } from './harness.ts';

/** Options of `simulateCoadd`. */
export interface SimulateOptions {
  readonly width: number;
  readonly height: number;
  /** Number of point sources. */
  readonly sources: number;
  /** PSF Gaussian sigma, pixels. */
  readonly psfSigma: number;
  /** Per-pixel noise sigma (image units); the variance plane is noise^2. */
  readonly noise: number;
  /** Mean sky level (image units; a gradient of +-5% is added). Default 0. */
  readonly sky?: number;
  /** PSF S/N range of the fluxes (Euclidean counts, truncated). Default [5, 1000]. */
  readonly snrMin?: number;
  readonly snrMax?: number;
  /** Keep sources this many pixels from the border. Default 0. */
  readonly margin?: number;
  readonly seed: number;
}

/** Truth of a simulated coadd: positions (0-based local pixels) and fluxes. */
export interface SimulatedTruth {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly flux: Float64Array;
  /** PSF S/N of each source. */
  readonly snr: Float64Array;
}

/** mulberry32, with Box-Muller normals. */
class SimRng {
  private s: number;
  private spare = Number.NaN;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = Number.NaN;
      return v;
    }
    const u = Math.max(this.next(), 1e-300);
    const r = Math.sqrt(-2 * Math.log(u));
    const a = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }
}

/** Render a simulated coadd and its truth (deterministic in `seed`). */
export function simulateCoadd(o: SimulateOptions): { image: MaskedImage; truth: SimulatedTruth } {
  const { width: W, height: H, psfSigma: sigma, noise } = o;
  const rng = new SimRng(o.seed);
  const mi = MaskedImage.create(W, H);
  const img = mi.image.data;
  const sky = o.sky ?? 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const g = sky * (1 + 0.05 * (x / W - 0.5) - 0.04 * (y / H - 0.5));
      img[y * W + x] = g + noise * rng.normal();
    }
  }
  mi.variance.data.fill(noise * noise);
  const n = o.sources;
  const truth: SimulatedTruth = {
    x: new Float64Array(n),
    y: new Float64Array(n),
    flux: new Float64Array(n),
    snr: new Float64Array(n),
  };
  const snrMin = o.snrMin ?? 5;
  const snrMax = o.snrMax ?? 1000;
  const fluxPerSnr = noise * Math.sqrt(4 * Math.PI) * sigma;
  const margin = o.margin ?? 0;
  const rad = Math.ceil(6 * sigma);
  const norm = 1 / (2 * Math.PI * sigma * sigma);
  const inv2s2 = 1 / (2 * sigma * sigma);
  for (let i = 0; i < n; i++) {
    const cx = margin + rng.next() * (W - 1 - 2 * margin);
    const cy = margin + rng.next() * (H - 1 - 2 * margin);
    // Inverse CDF of N(> s) ~ s^-1.5 truncated to [snrMin, snrMax].
    const tail = 1 - (snrMax / snrMin) ** -1.5;
    const snr = snrMin * (1 - rng.next() * tail) ** (-1 / 1.5);
    const flux = snr * fluxPerSnr;
    truth.x[i] = cx;
    truth.y[i] = cy;
    truth.flux[i] = flux;
    truth.snr[i] = snr;
    const amp = flux * norm;
    for (
      let y = Math.max(0, Math.ceil(cy - rad));
      y <= Math.min(H - 1, Math.floor(cy + rad));
      y++
    ) {
      const dy2 = (y - cy) ** 2;
      for (
        let x = Math.max(0, Math.ceil(cx - rad));
        x <= Math.min(W - 1, Math.floor(cx + rad));
        x++
      ) {
        const p = y * W + x;
        img[p] = (img[p] as number) + amp * Math.exp(-((x - cx) ** 2 + dy2) * inv2s2);
      }
    }
  }
  return { image: mi, truth };
}

/** Options of `benchDetect`. */
export interface DetectBenchOptions {
  /** Image sides (square images), e.g. [1024, 4096]. */
  readonly sizes: readonly number[];
  /** Sources per 4096x4096 (scaled by area); default 10,000. */
  readonly sourcesPer4k?: number;
  readonly psfSigma?: number;
  readonly repeats: number;
  readonly warmup: number;
  /** Stop repeating a case once it has used about this many ms (at least 3 runs). */
  readonly budgetMs: number;
  readonly onRecord?: (r: BenchRecord) => void;
  /** Also run Source Extractor when it is on PATH (default true). */
  readonly sextractor?: boolean;
}

/** Stage wall times of one pipeline run, ms. */
interface StageTimes {
  background: number;
  detect: number;
  measure: number;
  total: number;
  sources: number;
  footprints: number;
}

async function runPipeline(
  backend: Backend,
  mi: MaskedImage,
  psfSigma: number,
): Promise<StageTimes> {
  const t0 = performance.now();
  const bg = await background(backend, mi, {});
  const t1 = performance.now();
  const det = await detect(backend, bg.subtracted, { psfSigma });
  const t2 = performance.now();
  const fp = det.positive;
  let sources = 0;
  if (fp) {
    const m = await measure(backend, bg.subtracted, fp, {
      psf: { kind: 'gaussian', sigma: psfSigma },
    });
    sources = m.count;
  }
  const t3 = performance.now();
  return {
    background: t1 - t0,
    detect: t2 - t1,
    measure: t3 - t2,
    total: t3 - t0,
    sources,
    footprints: fp?.count ?? 0,
  };
}

/**
 * Background + detection + measurement of simulated coadds on `backend`; with a CPU
 * `reference`, a webgpu run is first checked to give the CPU's footprints.
 */
export async function benchDetect(
  backend: Backend,
  reference: Backend | null,
  o: DetectBenchOptions,
): Promise<BenchRecord[]> {
  const out: BenchRecord[] = [];
  const facts = machineFacts();
  const info = backend.info();
  const psfSigma = o.psfSigma ?? 2;
  for (const size of o.sizes) {
    const sources = Math.round(((o.sourcesPer4k ?? 10_000) * size * size) / (4096 * 4096));
    const { image } = simulateCoadd({
      width: size,
      height: size,
      sources,
      psfSigma,
      noise: 10,
      sky: 1000,
      seed: 20260101 + size,
    });
    let verified: boolean | null = null;
    if (backend.kind === 'webgpu' && reference) {
      const a = await runFootprints(reference, image, psfSigma);
      const b = await runFootprints(backend, image, psfSigma);
      verified = a === b;
    }
    const first = await runPipeline(backend, image, psfSigma);
    const repeats = Math.max(
      3,
      Math.min(o.repeats, Math.floor(o.budgetMs / Math.max(first.total, 1))),
    );
    for (let i = 1; i < o.warmup; i++) await runPipeline(backend, image, psfSigma);
    const runs: StageTimes[] = [];
    for (let i = 0; i < repeats; i++) runs.push(await runPipeline(backend, image, psfSigma));
    const med = (k: keyof StageTimes) => median(runs.map((r) => r[k]));
    const sex =
      o.sextractor === false ? null : await runSextractor(image, psfSigma, info.threads ?? 1, 3);
    const total = runs.map((r) => r.total);
    const rec: BenchRecord = {
      op: 'detect',
      backend: backend.kind,
      adapter: info.adapter,
      width: size,
      height: size,
      params: {
        psf_sigma: psfSigma,
        simulated_sources: sources,
        footprints: first.footprints,
        measured_sources: first.sources,
        background_ms: round(med('background')),
        detect_ms: round(med('detect')),
        measure_ms: round(med('measure')),
        ...(sex ? { sextractor_ms: round(sex.ms), sextractor_sources: sex.sources } : {}),
      },
      median_ms: median(total),
      min_ms: Math.min(...total),
      max_ms: Math.max(...total),
      mpix_per_s: (size * size) / median(total) / 1e3,
      gpu_median_ms: null,
      gpu_bytes: null,
      gpu_gb_per_s: null,
      repeats,
      warmup: o.warmup,
      threads: info.threads,
      verified,
      ...facts,
    };
    out.push(rec);
    o.onRecord?.(rec);
  }
  return out;
}

/** A digest of the footprints (for the webgpu check). */
async function runFootprints(backend: Backend, mi: MaskedImage, psfSigma: number): Promise<string> {
  const crop = MaskedImage.create(Math.min(mi.width, 512), Math.min(mi.height, 512));
  for (let y = 0; y < crop.height; y++) {
    const src = y * mi.width;
    const dst = y * crop.width;
    crop.image.data.set(mi.image.data.subarray(src, src + crop.width), dst);
    crop.variance.data.set(mi.variance.data.subarray(src, src + crop.width), dst);
  }
  const bg = await background(backend, crop, {});
  const d = await detect(backend, bg.subtracted, { psfSigma });
  const f = d.positive;
  if (!f) return '';
  return `${f.count}:${Array.from(f.area).join(',')}:${Array.from(f.peakX).join(',')}`;
}

/** The Source Extractor executable on PATH, or null. */
export function findSextractor(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of ['source-extractor', 'sex']) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/**
 * Run Source Extractor on `mi`'s image (written as float32 FITS in a temporary
 * directory) `repeats` times with settings comparable to background + detect + measure;
 * the median wall time (ms, the process alone, not our FITS write) and the number of
 * sources of its catalog. Null when it is not installed or fails.
 */
export async function runSextractor(
  mi: MaskedImage,
  psfSigma: number,
  threads: number,
  repeats: number,
): Promise<{ ms: number; sources: number } | null> {
  const exe = findSextractor();
  if (!exe) return null;
  const dir = mkdtempSync(join(tmpdir(), 'gpu-drp-sex-'));
  try {
    const image = join(dir, 'image.fits');
    await writeFits(image, [{ data: mi.image.data, shape: [mi.width, mi.height] }]);
    // Normalized Gaussian filter of the PSF (half-size 3 sigma, at most 31 px).
    const h = Math.min(15, Math.ceil(3 * psfSigma));
    const rows: string[] = ['CONV NORM', `# Gaussian sigma ${psfSigma} px`];
    let sum = 0;
    let sum2 = 0;
    for (let y = -h; y <= h; y++) {
      const row: string[] = [];
      for (let x = -h; x <= h; x++) {
        const k = Number(Math.exp(-(x * x + y * y) / (2 * psfSigma * psfSigma)).toPrecision(6));
        sum += k;
        sum2 += k * k;
        row.push(String(k));
      }
      rows.push(row.join(' '));
    }
    // Source Extractor compares the filtered image with the unfiltered background RMS;
    // 5 sigma of the smoothed noise (our threshold) is 5 sqrt(sum k^2) / sum k of that.
    const thresh = (5 * Math.sqrt(sum2)) / sum;
    writeFileSync(join(dir, 'psf.conv'), `${rows.join('\n')}\n`);
    writeFileSync(
      join(dir, 'bench.param'),
      ['NUMBER', 'X_IMAGE', 'Y_IMAGE', 'FLUX_ISO', 'FLUX_APER(4)', 'FLAGS', ''].join('\n'),
    );
    const catalog = join(dir, 'bench.cat');
    const config: Record<string, string> = {
      CATALOG_NAME: catalog,
      CATALOG_TYPE: 'ASCII_HEAD',
      PARAMETERS_NAME: join(dir, 'bench.param'),
      DETECT_TYPE: 'CCD',
      DETECT_MINAREA: '1',
      DETECT_THRESH: thresh.toFixed(4),
      ANALYSIS_THRESH: thresh.toFixed(4),
      THRESH_TYPE: 'RELATIVE',
      FILTER: 'Y',
      FILTER_NAME: join(dir, 'psf.conv'),
      DEBLEND_NTHRESH: '32',
      DEBLEND_MINCONT: '0.005',
      CLEAN: 'N',
      MASK_TYPE: 'NONE',
      PHOT_APERTURES: '6,12,18,24',
      SATUR_LEVEL: '1e10',
      GAIN: '0',
      PIXEL_SCALE: '1',
      SEEING_FWHM: (2.3548 * psfSigma).toFixed(3),
      BACK_TYPE: 'AUTO',
      BACK_SIZE: '128',
      BACK_FILTERSIZE: '1',
      BACKPHOTO_TYPE: 'GLOBAL',
      CHECKIMAGE_TYPE: 'NONE',
      MEMORY_BUFSIZE: '4096',
      VERBOSE_TYPE: 'QUIET',
      WRITE_XML: 'N',
      NTHREADS: String(Math.max(1, threads)),
    };
    writeFileSync(join(dir, 'bench.sex'), '');
    const args = [image, '-c', join(dir, 'bench.sex')];
    for (const [k, v] of Object.entries(config)) args.push(`-${k}`, v);
    const times: number[] = [];
    for (let i = 0; i < Math.max(1, repeats); i++) {
      const t0 = performance.now();
      const r = spawnSync(exe, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      const t1 = performance.now();
      if (r.status !== 0) return null;
      times.push(t1 - t0);
    }
    let sources = 0;
    for (const line of readFileSync(catalog, 'utf8').split('\n')) {
      if (line.trim() !== '' && !line.startsWith('#')) sources++;
    }
    return { ms: median(times), sources };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
