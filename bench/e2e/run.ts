/**
 * `gpu-bench e2e`: end-to-end gpu-coadd against SWarp + Source Extractor on the same
 * simulated calexps, timed in the same run, with accuracy against the simulator's truth.
 *
 * What is timed: the wall time of each command, from spawn to exit, as a user would run
 * it: `node dist/src/cli/bin/gpu-coadd.js run <calexps> --grid <head> ...` (scan, read,
 * warp, stack, detect, measure, write) against `SWarp` (resample + combine) then
 * `source-extractor` (detect + measure) on SWarp's coadd. Not timed: simulating the data
 * and converting the calexps into SWarp inputs (once per data cache; its time is in the
 * record). Before timing, every input file (calexps, SWarp inputs) and gpu-coadd's
 * build are read once and each tool is started once, so the page cache is equally warm
 * for all. With --repeat N the order alternates (ours first on even runs, the peers
 * first on odd runs) and medians are reported.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import type { AdapterDescription, BackendKind } from '../../src/compute/backend.ts';
import { Box2I } from '../../src/geom/box.ts';
import { readExposure, readPlainImageWithWeight } from '../../src/image/exposure-fits.ts';
import { scanInputs } from '../../src/scheduler/inputs.ts';
import { planCoadds } from '../../src/scheduler/plan.ts';
import type { SimConfig, SimPresetName } from '../../src/sim/config.ts';
import { simulate } from '../../src/sim/simulate.ts';
import { type BenchRecord, machineFacts, median, saveRecords } from '../harness.ts';
import {
  type CoaddDiff,
  commonRegion,
  compareCoadds,
  magEdges,
  readOurCatalog,
  readSextractorCatalog,
  readTruth,
  type Score,
  scoreCatalog,
} from './accuracy.ts';
import { E2eError } from './errors.ts';
import { patchGrid } from './grid.ts';
import {
  convertCalexps,
  findPeers,
  headFor,
  type Peers,
  sextractorArgs,
  swarpArgs,
  writeImageList,
  writeSextractorFiles,
} from './peers.ts';
import { renderE2eReport } from './report.ts';

/** Options of {@link runE2e}. */
export interface E2eOptions {
  /** Repository root (where dist/ and bench/results/ are). */
  readonly root: string;
  readonly preset: SimPresetName;
  /** Simulator seed (default 1, the simulator's). */
  readonly seed: number;
  /** Data cache: simulated here when it has no manifest.json. */
  readonly dataDir: string;
  /** CPU threads for every tool. */
  readonly threads: number;
  /** Timed runs of each side (>= 1). */
  readonly repeat: number;
  /** gpu-coadd's --backend. */
  readonly backend: 'cpu' | 'webgpu' | 'auto';
  /** Run gpu-coadd alone even when the peers are installed. */
  readonly skipPeers: boolean;
  /** Fail (E2E_PEERS_MISSING) instead of running ours alone when a peer is missing. */
  readonly requirePeers?: boolean;
  /** JSON record path (default bench/results/e2e-<preset>-<backend>.json). */
  readonly out?: string | undefined;
  /** Markdown report path (default: the JSON path with .md). */
  readonly report?: string | undefined;
  /** Detection threshold, sigma of the smoothed noise (gpu-coadd's default 5). */
  readonly threshold?: number;
  /** Match radius for the accuracy figures, arcsec (default 1). */
  readonly matchRadiusArcsec?: number;
  /** Bright sources: point-source S/N on our coadd at least this (default 50). */
  readonly brightSnr?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** Wall-time statistics of repeated runs, ms. */
export interface WallStats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max - min) / median. */
  readonly spread: number;
  readonly all: readonly number[];
}

/** Everything the end-to-end benchmark measured (the record's `e2e` member). */
export interface E2eDetails {
  readonly preset: SimPresetName;
  readonly seed: number;
  readonly dataDir: string;
  readonly inputs: {
    readonly calexps: number;
    readonly visits: number;
    readonly ccdWidth: number;
    readonly ccdHeight: number;
    /** Input pixels over all planned calexps. */
    readonly pixels: number;
    readonly compressed: boolean;
  };
  readonly grid: {
    readonly tract: number;
    readonly width: number;
    readonly height: number;
    readonly tractMinX: number;
    readonly tractMinY: number;
    readonly patches: readonly string[];
    readonly head: string;
  };
  readonly settings: {
    readonly statistic: 'MEANCLIP';
    readonly kernel: 'lanczos3';
    readonly threshold: number;
    readonly threads: number;
    readonly backendRequested: string;
    readonly repeat: number;
    /** PSF sigma on the coadd, pixels (mean of the inputs', as gpu-coadd computes it). */
    readonly psfSigma: number;
  };
  readonly warmup: { readonly files: number; readonly bytes: number; readonly ms: number };
  readonly loadAverage: { readonly before: readonly number[]; readonly after: readonly number[] };
  readonly ours: {
    readonly tool: string;
    readonly command: readonly string[];
    readonly wallMs: WallStats;
    /** gpu-coadd's own stage timings (summary.json timingsMs), median per stage, ms. */
    readonly stageMs: Readonly<Record<string, number>>;
    /** Wall time outside the stages (process start, module loading, input scan, plan), median, ms. */
    readonly otherMs: number;
    /**
     * The device's compute time in the unit (timestamp queries; null on the CPU backend or
     * without timestamps), median ms, and its share of the unit's wall time (median).
     */
    readonly deviceBusy: { readonly ms: number; readonly share: number } | null;
    readonly backendReason: string;
    readonly psfSigma: number;
    /**
     * Ratio of the PSF-smoothed coadd's measured noise to its variance plane's prediction,
     * by which gpu-coadd scaled its threshold (null: a gpu-coadd that does not report it).
     */
    readonly noiseRatio: number | null;
    readonly sources: number;
  };
  readonly peers: {
    readonly ran: boolean;
    /** Why they did not run (not installed, --skip-peers), or null. */
    readonly skippedReason: string | null;
    readonly swarp: {
      readonly version: string;
      readonly command: readonly string[];
      readonly wallMs: WallStats;
    } | null;
    readonly sextractor: {
      readonly version: string;
      readonly command: readonly string[];
      readonly wallMs: WallStats;
      readonly detectThresh: number;
      readonly sources: number;
    } | null;
    /** SWarp + Source Extractor per run. */
    readonly totalMs: WallStats | null;
    /** Converting calexps into SWarp inputs (not timed with SWarp), ms; 0 when reused. */
    readonly conversionMs: number;
    readonly conversionReused: boolean;
    readonly tpvMaxErrorPixels: number;
  };
  /** Peers' median wall / ours' median wall (> 1: gpu-coadd is faster); null without peers. */
  readonly ratio: number | null;
  readonly accuracy: {
    readonly matchRadiusArcsec: number;
    readonly brightSnr: number;
    readonly brightFluxNjy: number;
    readonly coaddNoiseNjy: number;
    readonly regionPixels: number;
    readonly edgeMarginPixels: number;
    readonly ours: Score;
    readonly peers: Score | null;
    /** Ours minus SWarp's coadd, in units of our per-pixel noise; null without peers. */
    readonly coaddDiff: CoaddDiff | null;
  };
}

/** The JSON record: a BenchRecord (op "e2e", `median_ms` = gpu-coadd's) plus the details. */
export interface E2eRecord extends BenchRecord {
  readonly e2e: E2eDetails;
}

/** What {@link runE2e} returns. */
export interface E2eResult {
  readonly record: E2eRecord;
  readonly jsonPath: string;
  readonly reportPath: string;
  /** Where the last run's outputs are: gpu-coadd's out dir and SWarp's/Source Extractor's files. */
  readonly outputs: {
    readonly ours: string;
    readonly swarpImage: string | null;
    readonly sextractorCatalog: string | null;
  };
}

function stats(all: readonly number[]): WallStats {
  const med = median(all);
  const min = Math.min(...all);
  const max = Math.max(...all);
  return { median: med, min, max, spread: med > 0 ? (max - min) / med : 0, all: [...all] };
}

/** The gpu-coadd CLI of the build. */
export function gpuCoaddBin(root: string): string {
  return join(root, 'dist', 'src', 'cli', 'bin', 'gpu-coadd.js');
}

/** Runs a command; its wall time (spawn to exit), ms, and stdout. Throws E2E_TOOL_FAILED on failure. */
function timed(
  exe: string,
  args: readonly string[],
  what: string,
  cwd: string,
): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(exe, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ms = performance.now() - t0;
  if (r.error || r.status !== 0) {
    const tail = `${r.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n');
    throw new E2eError(
      'E2E_TOOL_FAILED',
      `${what} failed (${r.error ? r.error.message : `exit ${r.status}${r.signal ? `, ${r.signal}` : ''}`}): ${exe} ${args.join(' ')}\n${tail}`,
    );
  }
  return { ms, stdout: r.stdout };
}

/** Reads every file under `paths` once (to warm the page cache); files, bytes and ms. */
function readAll(paths: readonly string[]): { files: number; bytes: number; ms: number } {
  const t0 = performance.now();
  let files = 0;
  let bytes = 0;
  const buf = Buffer.allocUnsafe(1 << 22);
  const walk = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) walk(join(p, name));
      return;
    }
    if (!st.isFile()) return;
    const fd = openSync(p, 'r');
    try {
      let n: number;
      do {
        n = readSync(fd, buf, 0, buf.length, null);
        bytes += n;
      } while (n > 0);
    } finally {
      closeSync(fd);
    }
    files++;
  };
  for (const p of paths) walk(p);
  return { files, bytes, ms: performance.now() - t0 };
}

/** The simulated data in `dir` (simulated first when it has no manifest), and its configuration. */
async function ensureData(o: E2eOptions): Promise<SimConfig> {
  const manifestPath = join(o.dataDir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    o.log?.(`e2e: simulating the ${o.preset} preset (seed ${o.seed}) into ${o.dataDir}`);
    const r = await simulate({ preset: o.preset, seed: o.seed }, { outDir: o.dataDir });
    o.log?.(`e2e: simulated ${r.calexps.length} calexps in ${r.seconds.toFixed(1)} s`);
  }
  let config: SimConfig;
  try {
    config = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { config: SimConfig }).config;
  } catch (e) {
    throw new E2eError(
      'E2E_BAD_DATA',
      `cannot read ${manifestPath}: ${(e as Error).message}; delete ${o.dataDir} to simulate it again`,
    );
  }
  if (config.name !== o.preset || config.seed !== o.seed) {
    throw new E2eError(
      'E2E_BAD_DATA',
      `${o.dataDir} holds the ${config.name} preset with seed ${config.seed}, not ${o.preset} with seed ${o.seed}; give another --data directory`,
    );
  }
  return config;
}

/** gpu-coadd's --json summary, as far as the benchmark reads it. */
interface CoaddSummary {
  readonly backend: { kind: BackendKind; adapter: AdapterDescription | null; threads: number };
  readonly reason: string;
  readonly units: ReadonlyArray<{
    target: string;
    band: string;
    skipped?: boolean;
    psfSigma: number;
    /** Measured / predicted smoothed noise the threshold was scaled by (newer gpu-coadd). */
    noiseRatio?: number;
    sources: number;
    /** The device's compute time (WebGPU with timestamps; newer gpu-coadd), else null/absent. */
    deviceBusy?: { ms: number; share: number; passes: number; untimedPasses: number } | null;
    timingsMs: Record<string, number>;
    files: Record<string, string>;
  }>;
}

/**
 * Runs the end-to-end benchmark (see the module comment) and writes the JSON record and
 * the markdown report.
 *
 * @throws E2eError E2E_NOT_BUILT (no dist/ build), E2E_BAD_DATA, E2E_TOOL_FAILED,
 *   E2E_PEERS_MISSING (with `requirePeers`).
 */
export async function runE2e(o: E2eOptions): Promise<E2eResult> {
  const log = o.log ?? (() => {});
  const threshold = o.threshold ?? 5;
  const radius = o.matchRadiusArcsec ?? 1;
  const brightSnr = o.brightSnr ?? 50;
  if (!(Number.isInteger(o.repeat) && o.repeat >= 1)) {
    throw new E2eError('E2E_BAD_OPTION', `--repeat must be a positive integer, got ${o.repeat}`);
  }
  if (!(Number.isInteger(o.threads) && o.threads >= 1)) {
    throw new E2eError('E2E_BAD_OPTION', `--threads must be a positive integer, got ${o.threads}`);
  }
  const bin = gpuCoaddBin(o.root);
  if (!existsSync(bin)) {
    throw new E2eError(
      'E2E_NOT_BUILT',
      `${bin} is missing; build gpu-coadd first with \`npm run build\``,
    );
  }
  const config = await ensureData(o);
  const calexpDir = join(o.dataDir, 'calexp');
  const grid = patchGrid(o.dataDir, config);
  const work = join(o.dataDir, 'e2e');
  const swarpDir = join(work, 'swarp');
  const oursDir = join(work, 'ours');
  mkdirSync(swarpDir, { recursive: true });
  const swarpImage = join(swarpDir, 'coadd.fits');
  const swarpWeight = join(swarpDir, 'coadd.weight.fits');
  // One grid file for both: gpu-coadd's --grid and the .head SWarp reads beside its output.
  const head = headFor(swarpImage);
  writeFileSync(head, grid.headText);

  const { inputs: scanned } = await scanInputs([calexpDir], true);
  const target = { key: 'grid', wcs: grid.wcs, bbox: new Box2I(0, 0, grid.width, grid.height) };
  const units = planCoadds(scanned, [target]);
  const unit = units[0];
  if (units.length !== 1 || !unit) {
    throw new E2eError(
      'E2E_BAD_DATA',
      `expected one band of calexps on the grid, found ${units.length}; the simulator writes one band`,
    );
  }
  const planned = unit.visits.flatMap((v) => v.inputs);
  const gridScale = grid.wcs.pixelScale();
  const psfSigmas = planned
    .filter((i) => i.psfSigma !== null)
    .map((i) => ((i.psfSigma as number) * i.wcs.pixelScale()) / gridScale);
  const psfSigma =
    psfSigmas.length > 0 ? psfSigmas.reduce((s, v) => s + v, 0) / psfSigmas.length : 2;
  log(
    `e2e: ${planned.length} calexps of ${unit.visits.length} visits onto a ${grid.width}x${grid.height} grid (tract ${grid.tract}, patches ${grid.patches.join(' ') || 'unaligned'})`,
  );

  // Peers.
  const found: Peers = o.skipPeers ? { swarp: null, sextractor: null } : findPeers();
  let skippedReason: string | null = null;
  if (o.skipPeers) skippedReason = 'skipped with --skip-peers';
  else if (!found.swarp || !found.sextractor) {
    const missing = [
      found.swarp ? null : 'SWarp (swarp / SWarp)',
      found.sextractor ? null : 'Source Extractor (source-extractor / sex)',
    ].filter(Boolean);
    skippedReason = `not installed: ${missing.join(', ')}`;
    if (o.requirePeers) {
      throw new E2eError(
        'E2E_PEERS_MISSING',
        `${missing.join(' and ')} not on PATH; install them (Debian: apt-get install swarp source-extractor) or run with --skip-peers`,
      );
    }
  }
  const peersRun = skippedReason === null && found.swarp !== null && found.sextractor !== null;
  let conversion = {
    inputs: [] as Awaited<ReturnType<typeof convertCalexps>>['inputs'],
    ms: 0,
    reused: false,
  };
  let swarpCmd: string[] = [];
  let sexCmd: string[] = [];
  let sexFiles: ReturnType<typeof writeSextractorFiles> | null = null;
  const catalog = join(swarpDir, 'sources.fits');
  if (peersRun) {
    log('e2e: converting calexps into SWarp inputs (once per data cache; not timed)');
    conversion = await convertCalexps(planned, join(o.dataDir, 'swarp-inputs'));
    log(
      `e2e: ${conversion.inputs.length} SWarp inputs ${conversion.reused ? 'reused' : `written in ${(conversion.ms / 1000).toFixed(1)} s`}`,
    );
    const list = writeImageList(join(swarpDir, 'inputs.list'), conversion.inputs);
    const emptyConfig = join(swarpDir, 'e2e.swarp');
    writeFileSync(
      emptyConfig,
      '# all settings are given on the command line (bench/e2e/peers.ts)\n',
    );
    const scratch = join(swarpDir, 'scratch');
    mkdirSync(scratch, { recursive: true });
    swarpCmd = swarpArgs({
      listFile: list,
      configFile: emptyConfig,
      imageOut: swarpImage,
      weightOut: swarpWeight,
      scratch,
      threads: o.threads,
    });
    sexFiles = writeSextractorFiles(join(swarpDir, 'sextractor'), {
      threads: o.threads,
      threshold,
      psfSigma,
    });
    sexCmd = sextractorArgs({
      image: swarpImage,
      weight: swarpWeight,
      catalog,
      files: sexFiles,
      psfSigma,
      pixelScaleArcsec: gridScale,
      threads: o.threads,
    });
  }
  const oursCmd = [
    bin,
    'run',
    calexpDir,
    '--grid',
    head,
    '--out',
    oursDir,
    '--statistic',
    'MEANCLIP',
    '--kernel',
    'lanczos3',
    '--threshold',
    String(threshold),
    '--backend',
    o.backend,
    '--threads',
    String(o.threads),
    '--clobber',
    '--json',
  ];

  // Warm the page cache equally: every input, gpu-coadd's build; start each tool once.
  const warm = readAll([
    calexpDir,
    ...conversion.inputs.flatMap((i) => [i.image, i.weight]),
    join(o.root, 'dist'),
  ]);
  timed(process.execPath, [bin, '--version'], 'gpu-coadd --version', o.root);
  log(
    `e2e: page cache warmed: ${warm.files} files, ${(warm.bytes / 2 ** 20).toFixed(0)} MiB read in ${(warm.ms / 1000).toFixed(1)} s`,
  );

  const before = loadavg();
  const oursMs: number[] = [];
  const stageRuns: Array<Record<string, number>> = [];
  const busyRuns: Array<{ ms: number; share: number }> = [];
  const swarpMs: number[] = [];
  const sexMs: number[] = [];
  let summary: CoaddSummary | null = null;
  const runOurs = () => {
    rmSync(oursDir, { recursive: true, force: true });
    const r = timed(process.execPath, oursCmd, 'gpu-coadd run', o.root);
    let s: CoaddSummary;
    try {
      s = JSON.parse(r.stdout) as CoaddSummary;
    } catch (e) {
      throw new E2eError(
        'E2E_TOOL_FAILED',
        `gpu-coadd run --json printed no JSON summary (${(e as Error).message}); run it by hand: node ${oursCmd.join(' ')}`,
      );
    }
    const u = s.units[0];
    if (s.units.length !== 1 || !u || u.skipped) {
      throw new E2eError(
        'E2E_TOOL_FAILED',
        `gpu-coadd made ${s.units.length} coadds (expected one, not skipped) in ${oursDir}`,
      );
    }
    oursMs.push(r.ms);
    stageRuns.push(u.timingsMs);
    if (u.deviceBusy) busyRuns.push(u.deviceBusy);
    summary = s;
    log(`e2e: gpu-coadd ${(r.ms / 1000).toFixed(2)} s (${u.sources} sources)`);
  };
  const runPeers = () => {
    rmSync(swarpImage, { force: true });
    rmSync(swarpWeight, { force: true });
    rmSync(catalog, { force: true });
    const sw = timed((found.swarp as { path: string }).path, swarpCmd, 'SWarp', swarpDir);
    if (!existsSync(swarpImage)) {
      throw new E2eError('E2E_TOOL_FAILED', `SWarp exited 0 but wrote no ${swarpImage}`);
    }
    const sx = timed(
      (found.sextractor as { path: string }).path,
      sexCmd,
      'Source Extractor',
      swarpDir,
    );
    if (!existsSync(catalog)) {
      throw new E2eError('E2E_TOOL_FAILED', `Source Extractor exited 0 but wrote no ${catalog}`);
    }
    swarpMs.push(sw.ms);
    sexMs.push(sx.ms);
    log(
      `e2e: SWarp ${(sw.ms / 1000).toFixed(2)} s + Source Extractor ${(sx.ms / 1000).toFixed(2)} s`,
    );
  };
  for (let r = 0; r < o.repeat; r++) {
    if (r % 2 === 0 || !peersRun) {
      runOurs();
      if (peersRun) runPeers();
    } else {
      runPeers();
      runOurs();
    }
  }
  const after = loadavg();
  const s = summary as CoaddSummary | null;
  const u = s?.units[0];
  if (!s || !u) throw new E2eError('E2E_TOOL_FAILED', 'gpu-coadd produced no summary');

  // Accuracy, same code for both.
  log('e2e: scoring against truth');
  const oursCoaddDir = join(oursDir, u.target, u.band);
  const ours = await readExposure(join(oursCoaddDir, u.files.coadd ?? 'coadd.fits'));
  const oursImage = ours.maskedImage.image.data;
  const oursVar = ours.maskedImage.variance.data;
  const n = grid.width * grid.height;
  const oursCovered = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const v = oursVar[p]!;
    oursCovered[p] = Number.isFinite(oursImage[p]!) && v > 0 && Number.isFinite(v) ? 1 : 0;
  }
  const covered = [oursCovered];
  let swarpExposure: Awaited<ReturnType<typeof readPlainImageWithWeight>> | null = null;
  if (peersRun) {
    swarpExposure = await readPlainImageWithWeight(swarpImage, swarpWeight);
    if (swarpExposure.width !== grid.width || swarpExposure.height !== grid.height) {
      throw new E2eError(
        'E2E_TOOL_FAILED',
        `SWarp wrote a ${swarpExposure.width}x${swarpExposure.height} coadd, not the ${grid.width}x${grid.height} grid of ${head}`,
      );
    }
    const sv = swarpExposure.maskedImage.variance.data;
    const c = new Uint8Array(n);
    for (let p = 0; p < n; p++) c[p] = Number.isFinite(sv[p]!) ? 1 : 0;
    covered.push(c);
  }
  const margin = Math.floor(7 * psfSigma + 0.5) + 1;
  const region = commonRegion(grid.width, grid.height, margin, covered);
  const noises: number[] = [];
  for (let p = 0; p < n; p += 7) if (region.inside[p]) noises.push(Math.sqrt(oursVar[p]!));
  const noise = median(noises);
  const fluxPerSnr = noise * Math.sqrt(4 * Math.PI) * psfSigma;
  const truth = readTruth(join(o.dataDir, 'truth', 'sources.csv'));
  const scoreOpts = {
    radiusArcsec: radius,
    brightFlux: brightSnr * fluxPerSnr,
    magEdges: magEdges(truth, 3 * fluxPerSnr),
  };
  const oursCat = await readOurCatalog(join(oursCoaddDir, u.files.fits ?? 'sources.fits'));
  const oursScore = scoreCatalog(truth, oursCat, grid.wcs, region, scoreOpts);
  let peersScore: Score | null = null;
  let coaddDiff: CoaddDiff | null = null;
  let sexSources = 0;
  if (peersRun && swarpExposure) {
    const sexCat = await readSextractorCatalog(catalog);
    sexSources = sexCat.ra.length;
    peersScore = scoreCatalog(truth, sexCat, grid.wcs, region, scoreOpts);
    coaddDiff = compareCoadds(oursImage, oursVar, swarpExposure.maskedImage.image.data, region);
  }

  const oursStats = stats(oursMs);
  const stageNames = [...new Set(stageRuns.flatMap((t) => Object.keys(t)))];
  const stageMs = Object.fromEntries(
    stageNames.map((k) => [k, median(stageRuns.map((t) => t[k] ?? 0))]),
  );
  const stageSum = Object.values(stageMs).reduce((a, b) => a + b, 0);
  const totalMs = peersRun ? stats(swarpMs.map((v, i) => v + (sexMs[i] ?? 0))) : null;
  const compressed = config.output.compress !== 'none';
  const details: E2eDetails = {
    preset: o.preset,
    seed: o.seed,
    dataDir: o.dataDir,
    inputs: {
      calexps: planned.length,
      visits: unit.visits.length,
      ccdWidth: config.detector.width,
      ccdHeight: config.detector.height,
      pixels: planned.reduce((a, i) => a + i.bbox.area, 0),
      compressed,
    },
    grid: {
      tract: grid.tract,
      width: grid.width,
      height: grid.height,
      tractMinX: grid.tractBox.minX,
      tractMinY: grid.tractBox.minY,
      patches: grid.patches,
      head: grid.headText,
    },
    settings: {
      statistic: 'MEANCLIP',
      kernel: 'lanczos3',
      threshold,
      threads: o.threads,
      backendRequested: o.backend,
      repeat: o.repeat,
      psfSigma,
    },
    warmup: warm,
    loadAverage: { before, after },
    ours: {
      tool: `gpu-coadd ${(JSON.parse(readFileSync(join(o.root, 'package.json'), 'utf8')) as { version: string }).version}`,
      command: ['node', ...oursCmd],
      wallMs: oursStats,
      stageMs,
      otherMs: oursStats.median - stageSum,
      backendReason: s.reason,
      psfSigma: u.psfSigma,
      noiseRatio: u.noiseRatio ?? null,
      sources: u.sources,
      deviceBusy: busyRuns.length
        ? {
            ms: median(busyRuns.map((b) => b.ms)),
            share: median(busyRuns.map((b) => b.share)),
          }
        : null,
    },
    peers: {
      ran: peersRun,
      skippedReason,
      swarp:
        peersRun && found.swarp
          ? {
              version: found.swarp.version,
              command: [found.swarp.path, ...swarpCmd],
              wallMs: stats(swarpMs),
            }
          : null,
      sextractor:
        peersRun && found.sextractor && sexFiles
          ? {
              version: found.sextractor.version,
              command: [found.sextractor.path, ...sexCmd],
              wallMs: stats(sexMs),
              detectThresh: sexFiles.detectThresh,
              sources: sexSources,
            }
          : null,
      totalMs,
      conversionMs: conversion.ms,
      conversionReused: conversion.reused,
      tpvMaxErrorPixels: Math.max(0, ...conversion.inputs.map((i) => i.tpvErrorPixels)),
    },
    ratio: totalMs ? totalMs.median / oursStats.median : null,
    accuracy: {
      matchRadiusArcsec: radius,
      brightSnr,
      brightFluxNjy: scoreOpts.brightFlux,
      coaddNoiseNjy: noise,
      regionPixels: region.pixels,
      edgeMarginPixels: margin,
      ours: oursScore,
      peers: peersScore,
      coaddDiff,
    },
  };
  const record: E2eRecord = {
    op: 'e2e',
    backend: s.backend.kind,
    adapter: s.backend.adapter,
    width: grid.width,
    height: grid.height,
    params: {
      preset: o.preset,
      seed: o.seed,
      statistic: 'MEANCLIP',
      kernel: 'lanczos3',
      calexps: planned.length,
      peers: peersRun,
      ratio: details.ratio,
    },
    median_ms: oursStats.median,
    min_ms: oursStats.min,
    max_ms: oursStats.max,
    mpix_per_s: (grid.width * grid.height) / oursStats.median / 1e3,
    gpu_median_ms: null,
    gpu_bytes: null,
    gpu_gb_per_s: null,
    repeats: o.repeat,
    warmup: 0,
    threads: o.threads,
    verified: null,
    ...machineFacts(),
    e2e: details,
  };
  const jsonPath =
    o.out ?? join(o.root, 'bench', 'results', `e2e-${o.preset}-${s.backend.kind}.json`);
  saveRecords(jsonPath, [record]);
  const reportPath = o.report ?? `${jsonPath.replace(/\.json$/i, '')}.md`;
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, renderE2eReport(record));
  log(`e2e: record ${jsonPath}, report ${reportPath}`);
  return {
    record,
    jsonPath,
    reportPath,
    outputs: {
      ours: oursDir,
      swarpImage: peersRun ? swarpImage : null,
      sextractorCatalog: peersRun ? catalog : null,
    },
  };
}
