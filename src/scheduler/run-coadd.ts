/**
 * Runs a coadd plan: per (target, band), the visits' CCDs are read, warped and stacked
 * (MEAN takes the fused streaming path when it fits the device), then sources are
 * detected and measured on the coadd, and everything is written under
 * `<out>/<target>/<band>/`: `coadd.fits` (Exposure: IMAGE, MASK, VARIANCE, WCS, PSF),
 * `coverage.fits` (inputs per pixel), `sources.parquet` and `sources.fits` (the
 * catalog), `preview.png` (asinh stretch, sources circled) and `summary.json`.
 *
 * A unit is written into a hidden scratch folder beside its final place and renamed into
 * place when complete, so an interrupted or failed run leaves no partial unit; a unit
 * with a summary is finished, and re-runs skip it unless `clobber`.
 *
 * Work is cut to the memory budget (./budget.ts); the next visit's files are read while
 * the current one is warped; several backends (lanes) take units from one queue; a lost
 * GPU device (or its memory running out) sends the lane to the CPU backend with a
 * warning, and the unit is redone there with the same result.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { writeCatalogFits } from '../catalog/fits.ts';
import { writeCatalogParquet } from '../catalog/parquet.ts';
import type { Catalog } from '../catalog/table.ts';
import { CpuBackend } from '../compute/cpu/cpu-backend.ts';
import { ComputeError } from '../compute/errors.ts';
import type { Backend } from '../compute/select.ts';
import { writeFits } from '../fits/writer.ts';
import type { Exposure } from '../image/exposure.ts';
import { readExposure, readPlainImageWithWeight, writeExposure } from '../image/exposure-fits.ts';
import { MaskedImage } from '../image/masked-image.ts';
import { encodePngGrey, stretch } from '../image/preview.ts';
import { coaddMean } from '../ops/coadd/index.ts';
import type { FootprintSet } from '../ops/detect/footprints.ts';
import type { MeasureResult } from '../ops/measure/result.ts';
import { StackParamsSchema, type StackResult, stack } from '../ops/stack/index.ts';
import { hostBackend, perWarpWeights } from '../ops/stack/weights.ts';
import type { WarpSource } from '../ops/warp/spec.ts';
import { type MemoryBudget, memoryBudget, planCoaddUnit, type UnitPlan } from './budget.ts';
import {
  coaddExposure,
  coaddPsf,
  coaddPsfSigma,
  coaddPsfTerms,
  detectAndMeasure,
  psfGaussianSigma,
  stackWarps,
  visitPsf,
  warpVisit,
} from './coadd-steps.ts';
import { SchedulerError } from './errors.ts';
import type { InputInfo } from './inputs.ts';
import type { CoaddUnit } from './plan.ts';
import { ReadPool } from './read-pool.ts';
import { residentCoadd } from './resident.ts';
import { WarpStore } from './warp-store.ts';

/** Options of a coadd run. */
export interface CoaddRunOptions {
  /**
   * Where to compute: one backend, or several (lanes: e.g. one per GPU device) that take
   * units from one queue. A lost GPU device (or its memory running out) falls back to
   * the CPU.
   */
  readonly backend: Backend | readonly Backend[];
  readonly outDir: string;
  readonly statistic: 'MEAN' | 'MEANCLIP' | 'MEDIAN';
  readonly kernel: 'lanczos3' | 'lanczos4' | 'lanczos5' | 'bilinear';
  /** Detection threshold, in units of the smoothed per-pixel noise. */
  readonly threshold: number;
  /** Redo units that already have a summary. */
  readonly clobber: boolean;
  /** Memory budget per lane (default: ./budget.ts memoryBudget of each backend). */
  readonly budget?: MemoryBudget | undefined;
  /** Stop at the first failed unit instead of going on with the others. */
  readonly strict?: boolean | undefined;
  /** Abort the run (Ctrl-C): the unit in progress is dropped, finished ones stay. */
  readonly signal?: AbortSignal | undefined;
  /** Progress events. */
  readonly onEvent?: ((e: CoaddEvent) => void) | undefined;
  /**
   * Where finished units go instead of files under `outDir` (e.g. a Butler run; see
   * `gpu-coadd run --butler` in src/cli/coadd-command.ts). `outDir` then only holds scratch space (spilled warps),
   * removed after each unit.
   */
  readonly sink?: CoaddSink | undefined;
  /**
   * Worker threads that read and decode the input files (./read-pool.ts), so decoding
   * runs beside the device work instead of on the main thread; 0 reads on the main
   * thread. Default: one less than the cores, at most 4, at least 1.
   */
  readonly readThreads?: number | undefined;
}

/** The run's options as the unit functions see them: with the run's read pool. */
type RunOptions = CoaddRunOptions & { readonly reader: ReadPool | null };

/** Default read threads: one less than the cores, at most 4, at least 1. */
export function defaultReadThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** Everything one unit computed, in memory (what a {@link CoaddSink} stores). */
export interface UnitProducts {
  readonly unit: CoaddUnit;
  /** The stacked coadd (mask without detection bits), target WCS and Gaussian PSF. */
  readonly coadd: Exposure;
  /** Inputs kept per pixel, row-major over the target box. */
  readonly coverage: Int32Array;
  /** The coadd with its detection mask (EDGE, DETECTED), WCS and PSF (`coadd.fits`). */
  readonly calexp: Exposure;
  /** Detected footprints with peaks (null: none asked for). */
  readonly footprints: FootprintSet | null;
  readonly measurement: MeasureResult | null;
  /** The source catalog (null when there were no footprints). */
  readonly catalog: Catalog | null;
  /** Gaussian PSF sigma of the coadd, target pixels. */
  readonly psfSigma: number;
  /** Measured / predicted noise of the PSF-smoothed coadd (the threshold was scaled by it). */
  readonly noiseRatio: number;
}

/** A destination for finished units other than the output folder. */
export interface CoaddSink {
  /** True when the unit's outputs are stored already (skipped unless `clobber`). */
  isDone(unit: CoaddUnit): Promise<boolean>;
  /**
   * Store a unit's products (replacing older ones when `clobber`); returns what was
   * stored, name -> where (the summary's `files`). Must store all or nothing.
   */
  write(products: UnitProducts, clobber: boolean): Promise<Record<string, string>>;
}

/** A progress event (units done / total, what a unit took, bytes read). */
export type CoaddEvent =
  | {
      readonly type: 'unit-start';
      readonly key: string;
      readonly band: string;
      readonly done: number;
      readonly total: number;
      readonly lane: number;
    }
  | {
      readonly type: 'stage';
      readonly key: string;
      readonly band: string;
      readonly stage: string;
      readonly ms: number;
      /** Bytes read from disk by the stage (read stages), else 0. */
      readonly bytes: number;
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
      readonly bytesRead: number;
    }
  | {
      readonly type: 'unit-failed';
      readonly key: string;
      readonly band: string;
      readonly done: number;
      readonly total: number;
      readonly code: string;
      readonly reason: string;
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
  /** Measured / predicted noise of the PSF-smoothed coadd; the threshold was scaled by it. */
  readonly noiseRatio: number;
  readonly sources: number;
  readonly coveredPixels: number;
  /** How the unit was cut to the memory budget. */
  readonly plan: UnitPlan & { readonly budget: MemoryBudget };
  /** The backend that computed it (after any fallback). */
  readonly backend: string;
  readonly bytesRead: number;
  /**
   * Bytes the unit moved host -> device, device -> host and device -> device (WebGPU;
   * null on the CPU backend): with the warps kept on the device, no warp goes either way.
   */
  readonly transfers: {
    readonly uploadBytes: number;
    readonly downloadBytes: number;
    readonly deviceCopyBytes: number;
  } | null;
  /**
   * How long the device computed (WebGPU with timestamp queries; else null): the
   * summed durations of the unit's compute passes, their share of the unit's wall time
   * (1 - share: the device idle, waiting for reads, transfers or host work), the passes
   * timed and any left untimed.
   */
  readonly deviceBusy: {
    readonly ms: number;
    readonly share: number;
    readonly passes: number;
    readonly untimedPasses: number;
  } | null;
  readonly timingsMs: Readonly<Record<string, number>>;
  readonly files: Readonly<Record<string, string>>;
}

/** A unit that failed (the others went on), with the error's code and message. */
export interface FailedUnit {
  readonly target: string;
  readonly band: string;
  readonly failed: true;
  readonly code: string;
  readonly reason: string;
}

export type UnitOutcome =
  | UnitSummary
  | { target: string; band: string; skipped: true }
  | FailedUnit;

async function atomicBytes(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

async function atomicJson(path: string, value: unknown): Promise<void> {
  await atomicBytes(path, new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`));
}

/** Compute errors after which the scheduler retries on the CPU backend. */
const FALLBACK_CODES = new Set([
  'GPU_DEVICE_LOST',
  'GPU_OUT_OF_MEMORY',
  'GPU_INTERNAL',
  'BACKEND_DISPOSED',
]);

function errorCode(e: unknown): string {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' ? c : 'ERROR';
}

/**
 * Run every unit; outcomes come back in unit order (finished, skipped as already done,
 * or failed with a reason). Throws only for an interruption (SchedulerError
 * INTERRUPTED), or for the first failure when `strict`.
 */
export async function runCoadd(
  units: readonly CoaddUnit[],
  o: CoaddRunOptions,
): Promise<UnitOutcome[]> {
  const lanes = Array.isArray(o.backend) ? [...(o.backend as Backend[])] : [o.backend as Backend];
  if (lanes.length === 0)
    throw new SchedulerError('NO_BACKEND', 'runCoadd needs at least one backend');
  const out: UnitOutcome[] = new Array(units.length);
  let next = 0;
  let done = 0;
  let cpuFallback: CpuBackend | null = null;
  let stop: unknown = null;
  const readThreads = o.readThreads ?? defaultReadThreads();
  if (!(Number.isInteger(readThreads) && readThreads >= 0)) {
    throw new SchedulerError(
      'BAD_READ_THREADS',
      `readThreads must be an integer >= 0 (0 reads on the main thread), not ${readThreads}`,
    );
  }
  const ro: RunOptions = { ...o, reader: readThreads > 0 ? new ReadPool(readThreads) : null };
  const total = units.length;
  const lane = async (laneIndex: number): Promise<void> => {
    let backend = lanes[laneIndex] as Backend;
    // Time the device's compute passes (summary deviceBusy), where the adapter can.
    if (backend.kind === 'webgpu') backend.trackBusy();
    const budget = o.budget ?? memoryBudget(backend);
    while (stop === null && next < units.length) {
      const index = next++;
      const unit = units[index] as CoaddUnit;
      const key = unit.target.key;
      const band = unit.band;
      const dir = join(o.outDir, key, band);
      o.onEvent?.({ type: 'unit-start', key, band, done, total, lane: laneIndex });
      const finished = o.sink ? await o.sink.isDone(unit) : existsSync(join(dir, 'summary.json'));
      if (!o.clobber && finished) {
        done++;
        out[index] = { target: key, band, skipped: true };
        o.onEvent?.({
          type: 'unit-done',
          key,
          band,
          done,
          total,
          skipped: true,
          ms: 0,
          sources: 0,
          bytesRead: 0,
        });
        continue;
      }
      const t0 = performance.now();
      try {
        let s: UnitSummary;
        try {
          s = await runUnitSomewhere(unit, dir, ro, backend, budget);
        } catch (e) {
          if (
            backend.kind !== 'webgpu' ||
            !(e instanceof ComputeError) ||
            !FALLBACK_CODES.has(e.code)
          )
            throw e;
          // A lost device or exhausted GPU memory: redo this unit, and the lane's next ones, on the CPU.
          o.onEvent?.({ type: 'fallback', key, band, reason: e.message });
          cpuFallback ??= new CpuBackend({});
          backend = cpuFallback;
          s = await runUnitSomewhere(unit, dir, ro, backend, o.budget ?? memoryBudget(backend));
        }
        done++;
        out[index] = s;
        o.onEvent?.({
          type: 'unit-done',
          key,
          band,
          done,
          total,
          skipped: false,
          ms: performance.now() - t0,
          sources: s.sources,
          bytesRead: s.bytesRead,
        });
      } catch (e) {
        if (isInterruption(e, o.signal) || o.strict) {
          stop ??= isInterruption(e, o.signal) ? interrupted() : e;
          return;
        }
        done++;
        const failed: FailedUnit = {
          target: key,
          band,
          failed: true,
          code: errorCode(e),
          reason: withHint(e),
        };
        out[index] = failed;
        o.onEvent?.({
          type: 'unit-failed',
          key,
          band,
          done,
          total,
          code: failed.code,
          reason: failed.reason,
        });
      }
    }
  };
  try {
    await Promise.all(lanes.map((_, i) => lane(i)));
  } finally {
    await (cpuFallback as CpuBackend | null)?.dispose();
    await ro.reader?.close();
  }
  if (stop !== null) throw stop;
  return out;
}

/** Hints for the system errors a run meets on its output file system. */
const SYSTEM_HINTS: Readonly<Record<string, string>> = {
  ENOSPC: 'the output file system is full: free space there or choose another --out',
  EDQUOT: 'the disk quota is exhausted: free space or choose another --out',
  EACCES: 'no permission to write there: choose another --out',
  EROFS: 'the output file system is read-only: choose another --out',
  ENOTDIR: 'a file is in the way of an output folder: move it or choose another --out',
};

function withHint(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const hint = SYSTEM_HINTS[errorCode(e)];
  return hint ? `${msg} (${hint})` : msg;
}

function isInterruption(e: unknown, signal: AbortSignal | undefined): boolean {
  return (
    signal?.aborted === true ||
    (e instanceof SchedulerError && e.code === 'INTERRUPTED') ||
    (e as { name?: string }).name === 'AbortError'
  );
}

function interrupted(): SchedulerError {
  return new SchedulerError(
    'INTERRUPTED',
    'the run was interrupted; finished patches are kept, the one in progress was dropped (run the same command again to go on)',
  );
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interrupted();
}

/** Run one unit into its folder, or into the sink when there is one. */
async function runUnitSomewhere(
  unit: CoaddUnit,
  dir: string,
  o: RunOptions,
  backend: Backend,
  budget: MemoryBudget,
): Promise<UnitSummary> {
  const sink = o.sink;
  if (!sink) return runUnitAtomically(unit, dir, o, backend, budget);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const scratch = join(o.outDir, `.unit-${tag}`);
  try {
    return await runUnit(unit, scratch, o, backend, budget, async (p) => {
      checkAbort(o.signal);
      return sink.write(p, o.clobber);
    });
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * Run one unit into a scratch folder beside `dir`, then rename it into place (replacing
 * an older result only once the new one is complete). Nothing is left on failure.
 */
async function runUnitAtomically(
  unit: CoaddUnit,
  dir: string,
  o: RunOptions,
  backend: Backend,
  budget: MemoryBudget,
): Promise<UnitSummary> {
  const parent = dirname(dir);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${unit.band}.tmp-${tag}`);
  await mkdir(tmp, { recursive: true });
  try {
    const s = await runUnit(unit, tmp, o, backend, budget, (p) => writeUnitFiles(tmp, p));
    await rm(join(tmp, 'scratch'), { recursive: true, force: true });
    await atomicJson(join(tmp, 'summary.json'), s);
    checkAbort(o.signal);
    if (existsSync(dir)) {
      const old = join(parent, `.${unit.band}.old-${tag}`);
      await rename(dir, old);
      await rename(tmp, dir);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, dir);
    }
    return s;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw e;
  }
}

/**
 * Write a unit's products as files under `dir`: `coadd.fits` (the coadd with its
 * detection mask, WCS and PSF), `coverage.fits`, `sources.parquet` + `sources.fits` (when
 * there are footprints) and `preview.png`.
 */
async function writeUnitFiles(dir: string, p: UnitProducts): Promise<Record<string, string>> {
  const { target } = p.unit;
  await mkdir(dir, { recursive: true });
  const files: Record<string, string> = { coadd: 'coadd.fits', coverage: 'coverage.fits' };
  await writeExposure(join(dir, files.coadd as string), p.calexp);
  await writeFits(join(dir, files.coverage as string), [
    { data: p.coverage, shape: [target.bbox.width, target.bbox.height], name: 'COVERAGE' },
  ]);
  if (p.catalog) {
    files.parquet = 'sources.parquet';
    files.fits = 'sources.fits';
    await writeCatalogParquet(join(dir, files.parquet), p.catalog);
    await writeCatalogFits(join(dir, files.fits), p.catalog);
  }
  // A quick look: asinh stretch, detected sources circled.
  const m = p.measurement;
  const circles = m
    ? Array.from(m.x, (x, i) => ({ x, y: m.y[i] as number, r: 4 * p.psfSigma }))
    : [];
  const view = stretch(p.coadd.image, { circles, bin: target.bbox.width > 2000 ? 2 : 1 });
  files.preview = 'preview.png';
  await atomicBytes(join(dir, files.preview), encodePngGrey(view.width, view.height, view.grey));
  return files;
}

/**
 * Read a visit's CCDs (calexps, or plain images with their weight maps): all of them at
 * once on the read pool's workers, or one after the other on the main thread.
 */
async function readVisit(
  inputs: readonly InputInfo[],
  reader: ReadPool | null,
): Promise<{ sources: WarpSource[]; bytes: number; ms: number }> {
  const t0 = performance.now();
  const sources: WarpSource[] = [];
  let bytes = 0;
  if (reader) {
    const reads = inputs.map((i) => reader.read({ path: i.path, weightPath: i.weightPath }));
    // Every read settles before an error is thrown, so none is left running unobserved.
    const done = await Promise.allSettled(reads);
    for (const [k, r] of done.entries()) {
      if (r.status === 'rejected') throw r.reason;
      bytes += r.value.bytes;
      const e = r.value.exposure;
      sources.push({ maskedImage: e.maskedImage, wcs: e.wcs ?? (inputs[k] as InputInfo).wcs });
    }
    return { sources, bytes, ms: performance.now() - t0 };
  }
  for (const i of inputs) {
    const e = i.weightPath
      ? await readPlainImageWithWeight(i.path, i.weightPath)
      : await readExposure(i.path);
    bytes += (await stat(i.path)).size + (i.weightPath ? (await stat(i.weightPath)).size : 0);
    sources.push({ maskedImage: e.maskedImage, wcs: e.wcs ?? i.wcs });
  }
  return { sources, bytes, ms: performance.now() - t0 };
}

/** Starts reading every visit in turn, one ahead of its consumer (reads overlap the warps). */
function prefetchVisits(
  unit: CoaddUnit,
  reader: ReadPool | null,
): () => Promise<Awaited<ReturnType<typeof readVisit>>> {
  let k = 0;
  const start = (i: number) => {
    const p = readVisit((unit.visits[i] as CoaddUnit['visits'][number]).inputs, reader);
    p.catch(() => {}); // awaited by the consumer; this only keeps an early rejection quiet
    return p;
  };
  let pending = unit.visits.length > 0 ? start(0) : null;
  return async () => {
    const current = pending as ReturnType<typeof start>;
    k++;
    pending = k < unit.visits.length ? start(k) : null;
    return current;
  };
}

/** {@link computeUnit}, then release what the unit left on the device (the coadd's twins). */
async function runUnit(...args: Parameters<typeof computeUnit>): Promise<UnitSummary> {
  const backend = args[3];
  try {
    return await computeUnit(...args);
  } finally {
    if (backend.kind === 'webgpu') backend.dropTwins();
  }
}

/**
 * Compute one unit (warps and stack cut to `budget`; spilled warps go to `dir`/scratch),
 * detect and measure, then hand the products to `write`, which returns the names of what
 * it wrote (the summary's `files`).
 */
async function computeUnit(
  unit: CoaddUnit,
  dir: string,
  o: RunOptions,
  backend: Backend,
  budget: MemoryBudget,
  write: (p: UnitProducts) => Promise<Record<string, string>>,
): Promise<UnitSummary> {
  const t: Record<string, number> = {};
  const { key } = unit.target;
  const record = (name: string, ms: number, bytes = 0) => {
    t[name] = (t[name] ?? 0) + ms;
    o.onEvent?.({ type: 'stage', key, band: unit.band, stage: name, ms, bytes });
  };
  const lap = (name: string, t0: number, bytes = 0) => record(name, performance.now() - t0, bytes);
  const { target } = unit;
  const W = target.bbox.width;
  const H = target.bbox.height;
  const psfTerms = coaddPsfTerms(
    unit.visits.flatMap((v) => v.inputs),
    target.wcs,
  );
  const plan = planCoaddUnit(unit, o.statistic, budget, backend);
  const moved0 = backend.kind === 'webgpu' ? { ...backend.transfers } : null;
  const busy0 = backend.kind === 'webgpu' ? backend.busyTime() : null;
  const unitT0 = performance.now();
  let bytesRead = 0;
  const nextVisit = prefetchVisits(unit, o.reader);
  const readNext = async () => {
    const t0 = performance.now();
    const r = await nextVisit();
    bytesRead += r.bytes;
    // Only the time spent waiting counts as reading; the rest overlapped the warps.
    lap('read', t0, r.bytes);
    checkAbort(o.signal);
    return r.sources;
  };
  let result: StackResult;
  if (plan.resident && backend.kind === 'webgpu') {
    result = await residentCoadd(
      backend,
      unit.visits.length,
      target,
      o.kernel,
      o.statistic,
      plan.stackRows,
      { next: readNext, lap, checkAbort: () => checkAbort(o.signal) },
    );
  } else if (plan.fused) {
    const visits: WarpSource[][] = [];
    for (let k = 0; k < unit.visits.length; k++) visits.push(await readNext());
    const t0 = performance.now();
    result = await coaddMean(backend, visits, target, { warp: { kernel: o.kernel } });
    lap('warp+stack', t0);
  } else {
    let store: WarpStore;
    if (plan.spill) {
      await mkdir(join(dir, 'scratch'), { recursive: true });
      store = new WarpStore(join(dir, 'scratch'));
    } else store = new WarpStore(null);
    const banded = plan.stackRows < H;
    const weights: number[] = [];
    const badBits = StackParamsSchema.parse({}).badMaskPlanes;
    for (let k = 0; k < unit.visits.length; k++) {
      const sources = await readNext();
      let t0 = performance.now();
      const w = await warpVisit(backend, sources, target, o.kernel, plan.warpRows);
      lap('warp', t0);
      checkAbort(o.signal);
      if (banded || plan.spill) {
        // Per-warp weights from the whole warp, as the one-piece stack computes them.
        t0 = performance.now();
        const wt = await perWarpWeights(hostBackend(), [w], w.mask.planes.bitMask(...badBits));
        weights.push(wt[0] as number);
        store.put(w);
        lap('keep', t0);
      } else store.put(w);
    }
    const t0 = performance.now();
    result =
      banded || plan.spill
        ? await stackInBands(
            backend,
            store,
            W,
            H,
            plan.stackRows,
            { statistic: o.statistic, weights },
            target.bbox.minX,
            target.bbox.minY,
            o.signal,
          )
        : await stackWarps(
            backend,
            Array.from({ length: store.size }, (_, k) => store.band(k, 0, H)),
            o.statistic,
          );
    lap('stack', t0);
  }
  checkAbort(o.signal);
  const psf = coaddPsf(
    unit.visits.map((v) => visitPsf(v.inputs, target)),
    result.weights,
    coaddPsfSigma(psfTerms),
  );
  const psfSigma = psfGaussianSigma(psf);
  const dm = await detectAndMeasure(backend, result.coadd, psf, o.threshold, target.wcs);
  record('detect', dm.ms.detect);
  record('measure', dm.ms.measure);
  const t0 = performance.now();
  const products: UnitProducts = {
    unit,
    coadd: coaddExposure(result.coadd, target.wcs, psf),
    coverage: result.coverage,
    calexp: dm.exposure,
    footprints: dm.detection.footprints,
    measurement: dm.measurement.result,
    catalog: dm.measurement.catalog,
    psfSigma,
    noiseRatio: dm.detection.noise?.ratio ?? 1,
  };
  const files = await write(products);
  const sources = dm.measurement.catalog?.length ?? 0;
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
    noiseRatio: dm.detection.noise?.ratio ?? 1,
    sources,
    coveredPixels: result.coverage.reduce((a, c) => a + (c > 0 ? 1 : 0), 0),
    plan: { ...plan, budget },
    backend:
      backend.kind === 'webgpu'
        ? `webgpu (${backend.info().adapter?.description ?? 'adapter'})`
        : 'cpu',
    bytesRead,
    transfers:
      backend.kind === 'webgpu' && moved0
        ? {
            uploadBytes: backend.transfers.uploadBytes - moved0.uploadBytes,
            downloadBytes: backend.transfers.downloadBytes - moved0.downloadBytes,
            deviceCopyBytes: backend.transfers.deviceCopyBytes - moved0.deviceCopyBytes,
          }
        : null,
    deviceBusy: deviceBusy(backend, busy0, performance.now() - unitT0),
    timingsMs: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v)])),
    files,
  };
}

/** The device's busy time over a unit, from the backend's totals before and now. */
function deviceBusy(
  backend: Backend,
  before: { ms: number; passes: number; untimed: number } | null,
  wallMs: number,
): UnitSummary['deviceBusy'] {
  const now = backend.kind === 'webgpu' ? backend.busyTime() : null;
  if (!now || !before) return null;
  const ms = now.ms - before.ms;
  return {
    ms: Math.round(ms * 10) / 10,
    share: wallMs > 0 ? Math.round((1000 * ms) / wallMs) / 1000 : 0,
    passes: now.passes - before.passes,
    untimedPasses: now.untimed - before.untimed,
  };
}

/** Stack the kept warps in row bands of `rows` (per-warp weights given), then assemble. */
async function stackInBands(
  backend: Backend,
  store: WarpStore,
  width: number,
  height: number,
  rows: number,
  params: { statistic: CoaddRunOptions['statistic']; weights: number[] },
  minX: number,
  minY: number,
  signal: AbortSignal | undefined,
): Promise<StackResult> {
  let coadd: MaskedImage | null = null;
  const coverage = new Int32Array(width * height);
  let used: Float32Array | null = null;
  for (let y = 0; y < height; y += rows) {
    checkAbort(signal);
    const h = Math.min(rows, height - y);
    const inputs = Array.from({ length: store.size }, (_, k) => store.band(k, y, h));
    const r = await stack(backend, inputs, params);
    coadd ??= MaskedImage.create(width, height, {
      xy0: { x: minX, y: minY },
      planes: r.coadd.mask.planes,
    });
    const off = y * width;
    coadd.image.data.set(r.coadd.image.data, off);
    coadd.mask.data.set(r.coadd.mask.data, off);
    coadd.variance.data.set(r.coadd.variance.data, off);
    coverage.set(r.coverage, off);
    used = r.weights;
  }
  return { coadd: coadd as MaskedImage, coverage, weights: used };
}
