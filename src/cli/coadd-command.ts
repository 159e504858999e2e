/**
 * `gpu-coadd run` and `gpu-coadd demo`: calexps -> patch coadds + source catalogs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coverageFits } from '../../tasks/assemble-coadd.ts';
import { encodeFootprints } from '../../tasks/footprint-codec.ts';
import { Butler } from '../butler/butler.ts';
import type { DatasetRef } from '../butler/refs.ts';
import { CpuBackend } from '../compute/cpu/cpu-backend.ts';
import { type Backend, createBackend } from '../compute/select.ts';
import { WebGpuBackend } from '../compute/webgpu/webgpu-backend.ts';
import { Header } from '../fits/header.ts';
import { readFits } from '../fits/reader.ts';
import { Box2I } from '../geom/box.ts';
import { DiscreteSkyMap, RingsSkyMap, type SkyMap } from '../geom/skymap.ts';
import { Wcs } from '../geom/wcs.ts';
import { memoryBudget, planCoaddUnit } from '../scheduler/budget.ts';
import { describeInput, type InputInfo, scanInputs } from '../scheduler/inputs.ts';
import { type CoaddTarget, type CoaddUnit, planCoadds, skymapTargets } from '../scheduler/plan.ts';
import {
  type CoaddEvent,
  type CoaddSink,
  runCoadd,
  type UnitProducts,
} from '../scheduler/run-coadd.ts';
import { simulate } from '../sim/index.ts';
import { CliError, EXIT } from './main.ts';
import { packageVersion } from './version.ts';

/** Options shared by `run` and `demo`. */
export interface CoaddCliOptions {
  readonly out: string;
  readonly skymap?: string | undefined;
  readonly tract?: number[] | undefined;
  readonly grid?: string | undefined;
  readonly statistic: 'MEAN' | 'MEANCLIP' | 'MEDIAN';
  readonly kernel: 'lanczos3' | 'lanczos4' | 'lanczos5' | 'bilinear';
  readonly threshold: number;
  /** Undefined: $GPU_DRP_BACKEND, else auto. */
  readonly backend?: 'auto' | 'webgpu' | 'cpu' | undefined;
  readonly threads: number;
  /** Compute devices (lanes) to open on the chosen adapter (default 1). */
  readonly devices?: number | undefined;
  /** Memory budgets in MiB (default: scheduler/budget.ts). */
  readonly deviceMemory?: number | undefined;
  readonly hostMemory?: number | undefined;
  /** Threads decoding inputs (default: scheduler's defaultReadThreads; 0: main thread). */
  readonly readThreads?: number | undefined;
  readonly clobber: boolean;
  readonly strict: boolean;
  readonly json: boolean;
  /** Butler mode: the repository the calexps come from and the coadds go to. */
  readonly butler?: string | undefined;
  /** Butler mode: collections searched for `calexp` (and `skyMap`). */
  readonly collections?: string[] | undefined;
  /** Butler mode: a where-expression on the calexps' data IDs. */
  readonly where?: string | undefined;
  /** Butler mode: the RUN collection the outputs go to (default gpu-coadd/<UTC time>). */
  readonly outputRun?: string | undefined;
  /** Butler mode: the sky map's registered name (default: the config's `name`). */
  readonly skymapName?: string | undefined;
}

/** A sky map from a JSON config (the simulator writes one: kind "discrete" or "rings"). */
export function loadSkymap(path: string): SkyMap {
  let cfg: { kind?: string } & Record<string, unknown>;
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(
      'BAD_SKYMAP',
      `cannot read sky map ${path}: ${(e as Error).message}`,
      EXIT.usage,
    );
  }
  const { kind, name: _name, ...rest } = cfg;
  if (kind === 'discrete')
    return new DiscreteSkyMap(rest as ConstructorParameters<typeof DiscreteSkyMap>[0]);
  if (kind === 'rings')
    return new RingsSkyMap(rest as ConstructorParameters<typeof RingsSkyMap>[0]);
  throw new CliError(
    'BAD_SKYMAP',
    `sky map ${path} has kind ${JSON.stringify(kind)}; use "discrete" or "rings"`,
    EXIT.usage,
  );
}

/**
 * An explicit grid: a FITS file's header (primary or IMAGE) or a text header with one
 * card per line (SWarp's .head), giving NAXIS1, NAXIS2 and a TAN WCS.
 */
export async function loadGrid(path: string): Promise<CoaddTarget> {
  let header: Header;
  if (/\.fits?(\.fz)?$/i.test(path)) {
    const f = await readFits(path);
    const hdu = f.hdus.find((h) => h.header.get('CTYPE1') !== undefined) ?? f.hdus[0];
    if (!hdu) throw new CliError('BAD_GRID', `${path} has no HDU`, EXIT.usage);
    header = hdu.header;
  } else {
    const lines = readFileSync(path, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.trim() && !/^END\s*$/.test(l));
    // Accept loose spacing ("NAXIS1 = 100") as well as fixed-format 80-column cards.
    const card = (l: string) => {
      const m = /^([A-Z0-9_-]{1,8})\s*=\s*(.*)$/.exec(l.trimEnd());
      return (m ? `${(m[1] as string).padEnd(8)}= ${m[2]}` : l).padEnd(80).slice(0, 80);
    };
    header = Header.fromCardImages(lines.map(card));
  }
  const w = header.get('NAXIS1');
  const h = header.get('NAXIS2');
  if (typeof w !== 'number' || typeof h !== 'number' || w <= 0 || h <= 0) {
    throw new CliError(
      'BAD_GRID',
      `${path} gives no positive NAXIS1/NAXIS2 for the grid size`,
      EXIT.usage,
    );
  }
  return { key: 'grid', wcs: Wcs.fromFitsHeader(header), bbox: new Box2I(0, 0, w, h) };
}

/**
 * Progress: on a terminal a one-line bar (units done / total, the current unit, data
 * read and its rate); in a batch log (stderr not a terminal) one JSON object per event
 * and line, with a time stamp in ms since the start. With --json, stdout holds only the
 * summary and stderr stays quiet but for warnings and failed units.
 */
function progressRenderer(json: boolean): (e: CoaddEvent) => void {
  const tty = process.stderr.isTTY === true;
  const t0 = performance.now();
  let bytes = 0;
  let done = 0;
  let total = 0;
  let current = '';
  return (e) => {
    if (e.type === 'fallback') {
      process.stderr.write(
        `${tty ? '\n' : ''}gpu-coadd: warning: ${e.key} ${e.band} redone on the CPU: ${e.reason}\n`,
      );
    }
    if (e.type === 'unit-failed') {
      process.stderr.write(
        `${tty ? '\n' : ''}gpu-coadd: ${e.key} ${e.band} failed [${e.code}]: ${e.reason}\n`,
      );
    }
    if (json || e.type === 'fallback') return;
    if (!tty) {
      process.stderr.write(`${JSON.stringify({ ...e, t: Math.round(performance.now() - t0) })}\n`);
      return;
    }
    if (e.type === 'stage') bytes += e.bytes;
    if (e.type === 'unit-start') current = `${e.key} ${e.band}`;
    if (e.type === 'unit-start' || e.type === 'unit-done' || e.type === 'unit-failed') {
      done = e.done;
      total = e.total;
    }
    const s = (performance.now() - t0) / 1000;
    const width = 30;
    const filled = Math.round((width * done) / Math.max(1, total));
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
    const io = `${(bytes / 1e6).toFixed(0)} MB read, ${(bytes / 1e6 / Math.max(s, 1e-3)).toFixed(0)} MB/s`;
    process.stderr.write(`\r${bar} ${io} ${current}`.padEnd(110).slice(0, 110));
    if ((e.type === 'unit-done' || e.type === 'unit-failed') && e.done === e.total)
      process.stderr.write('\n');
  };
}

/** Run the coadd; returns the exit code. */
export async function coaddRun(inputs: readonly string[], o: CoaddCliOptions): Promise<number> {
  const rt = o.readThreads;
  if (rt !== undefined && !(Number.isInteger(rt) && rt >= 0 && rt <= 64)) {
    throw new CliError(
      'BAD_READ_THREADS',
      `--read-threads must be an integer from 0 (read on the main thread) to 64, not ${rt}`,
      EXIT.usage,
    );
  }
  if (o.butler !== undefined) return coaddRunButler(inputs, o);
  const log = (s: string) => {
    if (!o.json) process.stderr.write(`${s}\n`);
  };
  if (inputs.length === 0) {
    throw new CliError(
      'NO_INPUTS',
      'give calexp files, globs or directories (or --butler REPO --collections C to read calexps from a repository)',
      EXIT.usage,
    );
  }
  if (!o.skymap === !o.grid) {
    throw new CliError(
      'BAD_TARGET',
      'give exactly one of --skymap FILE.json or --grid FILE (FITS or .head)',
      EXIT.usage,
    );
  }
  const targets = o.grid
    ? [await loadGrid(o.grid)]
    : skymapTargets(loadSkymap(o.skymap as string), o.tract);
  const t0 = performance.now();
  const { inputs: found, skipped } = await scanInputs(inputs, o.strict);
  for (const s of skipped) log(`gpu-coadd: skipped ${s.path}: ${s.reason}`);
  if (found.length === 0) {
    throw new CliError(
      'NO_INPUTS',
      `no usable calexp among ${inputs.join(' ')}; give files or directories of calexps`,
      EXIT.failed,
    );
  }
  const units = planCoadds(found, targets);
  if (units.length === 0) {
    throw new CliError(
      'NO_OVERLAP',
      `none of the ${found.length} calexps overlaps the ${targets.length} target(s)`,
      EXIT.failed,
    );
  }
  const { backend, reason } = await createBackend({
    ...(o.backend ? { backend: o.backend } : {}),
    threads: o.threads,
  });
  const lanes = await openLanes(backend, o.devices ?? 1, o.threads);
  log(
    `gpu-coadd: ${found.length} inputs, ${units.length} patch-band coadds; ${reason}${lanes.length > 1 ? ` (${lanes.length} devices)` : ''}`,
  );
  // Ctrl-C (SIGINT) or a batch system's SIGTERM: stop after dropping the unit in
  // progress (its scratch folder is removed); a second signal quits at once.
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`gpu-coadd: ${sig} again: quitting now\n`);
      process.exit(EXIT.interrupted);
    }
    process.stderr.write(
      `\ngpu-coadd: ${sig}: stopping; finished patches are kept (${sig} again to quit at once)\n`,
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const budget = memoryBudget(backend, { deviceMiB: o.deviceMemory, hostMiB: o.hostMemory });
    // Refuse a target that cannot fit before any work starts.
    for (const u of units) planCoaddUnit(u, o.statistic, budget, backend);
    const results = await runCoadd(units, {
      backend: lanes,
      outDir: o.out,
      statistic: o.statistic,
      kernel: o.kernel,
      threshold: o.threshold,
      clobber: o.clobber,
      budget,
      strict: o.strict,
      readThreads: o.readThreads,
      signal: controller.signal,
      onEvent: progressRenderer(o.json),
    });
    const failed = results.filter((r) => 'failed' in r);
    const summary = {
      version: packageVersion(),
      versions: { gpuDrp: packageVersion(), node: process.version, webgpu: webgpuVersion() },
      backend: backend.info(),
      devices: lanes.length,
      reason,
      inputs: found.map((i) => i.path),
      skipped,
      units: results,
      failed: failed.length,
      seconds: (performance.now() - t0) / 1000,
    };
    await mkdir(o.out, { recursive: true });
    const tmp = join(o.out, `summary.json.tmp-${process.pid}`);
    await writeFile(tmp, `${JSON.stringify(summary, null, 2)}\n`);
    await rename(tmp, join(o.out, 'summary.json'));
    if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else
      log(
        `gpu-coadd: done in ${summary.seconds.toFixed(1)} s; outputs in ${o.out} (summary.json)${failed.length ? `; ${failed.length} of ${results.length} coadds FAILED (see above)` : ''}`,
      );
    if (failed.length === 0) return EXIT.ok;
    return failed.length === results.length ? EXIT.failed : EXIT.partial;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const l of lanes) await l.dispose();
  }
}

/** The installed version of the Dawn bindings package (npm `webgpu`), or 'not installed'. */
function webgpuVersion(): string {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve('webgpu'));
    for (let i = 0; i < 4; i++, dir = dirname(dir)) {
      const f = join(dir, 'package.json');
      if (!existsSync(f)) continue;
      const j = JSON.parse(readFileSync(f, 'utf8')) as { name?: string; version?: string };
      if (j.name === 'webgpu') return j.version ?? 'unknown';
    }
  } catch {
    // not installed: the CPU backend still works
  }
  return 'not installed';
}

/** The chosen backend plus `devices - 1` more devices on the same kind of adapter. */
async function openLanes(first: Backend, devices: number, threads: number): Promise<Backend[]> {
  if (!Number.isInteger(devices) || devices < 1 || devices > 64) {
    await first.dispose();
    throw new CliError(
      'BAD_DEVICES',
      `--devices must be an integer from 1 to 64, not ${devices}`,
      EXIT.usage,
    );
  }
  const lanes: Backend[] = [first];
  for (let i = 1; i < devices; i++) {
    if (first.kind === 'webgpu') {
      const software = first.info().adapter?.isSoftware === true;
      lanes.push(await WebGpuBackend.create({ adapter: software ? 'software' : 'hardware' }));
    } else {
      lanes.push(new CpuBackend({ threads }));
    }
  }
  return lanes;
}

/** `gpu-coadd demo`: simulate a small field, then coadd it on the embedded defaults. */
export async function coaddDemo(
  o: CoaddCliOptions & { preset: 'tiny' | 'small'; seed: number },
): Promise<number> {
  const simDir = join(o.out, 'sim');
  if (!existsSync(join(simDir, 'skymap.json')) || o.clobber) {
    if (!o.json)
      process.stderr.write(`gpu-coadd demo: simulating the ${o.preset} field into ${simDir}\n`);
    await simulate({ preset: o.preset, seed: o.seed }, { outDir: simDir });
  }
  return coaddRun([join(simDir, 'calexp')], {
    ...o,
    out: join(o.out, 'coadd'),
    skymap: join(simDir, 'skymap.json'),
    grid: undefined,
  });
}

/** Dataset types `gpu-coadd run --butler` writes (names as tasks/pipelines/coadd.yaml). */
export const BUTLER_COADD_TYPES = {
  coadd: { name: 'deepCoadd', storageClass: 'ExposureF' },
  coverage: { name: 'deepCoadd_coverage', storageClass: 'Bytes' },
  calexp: { name: 'deepCoadd_calexp', storageClass: 'ExposureF' },
  detections: { name: 'deepCoadd_det', storageClass: 'StructuredDataDict' },
  catalog: { name: 'deepCoadd_meas', storageClass: 'SourceCatalog' },
} as const;

const COADD_DIMENSIONS = ['skymap', 'tract', 'patch', 'band'] as const;

/**
 * Stores finished units in a Butler run as the pipeline's datasets: deepCoadd (stacked,
 * no detection bits), deepCoadd_coverage (FITS bytes, int32 COVERAGE), deepCoadd_calexp
 * (with DETECTED; what file mode writes as coadd.fits), deepCoadd_det (footprints) and
 * deepCoadd_meas (the catalog, when there are sources). All or nothing per unit.
 */
class ButlerCoaddSink implements CoaddSink {
  private registered = false;

  constructor(
    private readonly butler: Butler,
    private readonly run: string,
    private readonly skymapName: string,
    private readonly patchOf: ReadonlyMap<string, { tract: number; patch: number }>,
    private readonly threshold: number,
  ) {}

  private dataId(unit: CoaddUnit): Record<string, string | number> {
    const tp = this.patchOf.get(unit.target.key);
    if (!tp) throw new CliError('BAD_TARGET', `no patch for target ${unit.target.key}`);
    return { skymap: this.skymapName, tract: tp.tract, patch: tp.patch, band: unit.band };
  }

  async isDone(unit: CoaddUnit): Promise<boolean> {
    if (!(await this.typesExist())) return false;
    try {
      const ref = await this.butler.registry.findDataset(
        BUTLER_COADD_TYPES.calexp.name,
        this.dataId(unit),
        { collections: [this.run] },
      );
      return ref !== null;
    } catch (e) {
      // A run that does not exist yet holds nothing.
      if ((e as { code?: unknown }).code === 'MISSING_COLLECTION') return false;
      throw e;
    }
  }

  private async typesExist(): Promise<boolean> {
    try {
      await this.butler.registry.getDatasetType(BUTLER_COADD_TYPES.calexp.name);
      return true;
    } catch {
      return false;
    }
  }

  private async register(): Promise<void> {
    if (this.registered) return;
    for (const t of Object.values(BUTLER_COADD_TYPES)) {
      await this.butler.registerDatasetType({ ...t, dimensions: [...COADD_DIMENSIONS] });
    }
    this.registered = true;
  }

  async write(p: UnitProducts, clobber: boolean): Promise<Record<string, string>> {
    await this.register();
    const dataId = this.dataId(p.unit);
    if (clobber) {
      const old: DatasetRef[] = [];
      for (const t of Object.values(BUTLER_COADD_TYPES)) {
        const ref = await this.butler.registry.findDataset(t.name, dataId, {
          collections: [this.run],
        });
        if (ref) old.push(ref);
      }
      if (old.length) await this.butler.pruneDatasets(old, { purge: true });
    }
    const { width, height } = p.unit.target.bbox;
    // As DetectCoaddSourcesTask records them.
    const meta = { psfSigma: p.psfSigma, thresholdValue: this.threshold, noiseRatio: p.noiseRatio };
    const values: Array<[keyof typeof BUTLER_COADD_TYPES, unknown]> = [
      ['coadd', p.coadd],
      ['coverage', coverageFits(p.coverage, width, height)],
      ['calexp', p.calexp],
      [
        'detections',
        p.footprints
          ? encodeFootprints(p.footprints, meta)
          : { format: 'gpu_drp.FootprintSet/1', empty: true, ...meta },
      ],
    ];
    if (p.catalog) values.push(['catalog', p.catalog]);
    const put: DatasetRef[] = [];
    const files: Record<string, string> = {};
    try {
      for (const [k, v] of values) {
        const name = BUTLER_COADD_TYPES[k].name;
        const ref = await this.butler.put(v, name, dataId, { run: this.run });
        put.push(ref);
        files[name] = ref.id;
      }
    } catch (e) {
      await this.butler.pruneDatasets(put, { purge: true }).catch(() => {});
      throw e;
    }
    return files;
  }
}

/** The sky map of a butler run: `--skymap FILE` (name from it), else the `skyMap` dataset. */
async function butlerSkymap(
  b: Butler,
  o: CoaddCliOptions,
  collections: readonly string[],
): Promise<{ skymap: SkyMap; name: string }> {
  if (o.grid) {
    throw new CliError(
      'BAD_TARGET',
      '--grid is for file mode; with --butler the targets are the sky map patches (--skymap FILE or a skyMap dataset)',
      EXIT.usage,
    );
  }
  if (o.skymap) {
    const cfg = JSON.parse(readFileSync(o.skymap, 'utf8')) as { name?: unknown };
    const name = o.skymapName ?? (typeof cfg.name === 'string' ? cfg.name : undefined);
    if (!name) {
      throw new CliError(
        'BAD_SKYMAP',
        `${o.skymap} has no "name"; give --skymap-name (the name it was registered under)`,
        EXIT.usage,
      );
    }
    return { skymap: loadSkymap(o.skymap), name };
  }
  let refs: DatasetRef[] = [];
  try {
    refs = await b.queryDatasets('skyMap', {
      collections,
      ...(o.skymapName ? { where: `skymap = '${o.skymapName}'` } : {}),
    });
  } catch {
    refs = [];
  }
  if (refs.length !== 1) {
    throw new CliError(
      'BAD_TARGET',
      refs.length === 0
        ? 'no skyMap dataset in the collections: give --skymap FILE.json (the config registered with `butler register-skymap`)'
        : `${refs.length} skyMap datasets in the collections: choose one with --skymap-name`,
      EXIT.usage,
    );
  }
  const ref = refs[0] as DatasetRef;
  return { skymap: (await b.get(ref)) as SkyMap, name: String(ref.dataId.skymap) };
}

/**
 * `gpu-coadd run --butler REPO --collections C [--where W] [--output-run RUN]`: the
 * `calexp` datasets of the collections (constrained by the where-expression) coadded onto
 * the sky map's patches, the outputs put into the output run (./coadd-command.ts
 * BUTLER_COADD_TYPES); the summary goes to stdout with --json, nothing to --out. Reads
 * the calexps' files in place, so the datastore must be local.
 */
async function coaddRunButler(inputs: readonly string[], o: CoaddCliOptions): Promise<number> {
  const log = (s: string) => {
    if (!o.json) process.stderr.write(`${s}\n`);
  };
  if (inputs.length > 0) {
    throw new CliError(
      'USAGE',
      `with --butler the inputs are the calexp datasets of --collections; drop ${inputs.join(' ')}`,
      EXIT.usage,
    );
  }
  const collections = (o.collections ?? []).flatMap((c) => c.split(',')).filter((c) => c);
  if (collections.length === 0) {
    throw new CliError('USAGE', '--butler needs --collections (where the calexps are)', EXIT.usage);
  }
  const run =
    o.outputRun ??
    `gpu-coadd/${new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}`;
  const t0 = performance.now();
  const b = await Butler.open(o.butler as string, { collections });
  const scratch = await mkdtemp(join(tmpdir(), 'gpu-coadd-butler-'));
  try {
    const { skymap, name: skymapName } = await butlerSkymap(b, o, collections);
    const refs = await b.queryDatasets('calexp', {
      collections,
      findFirst: true,
      ...(o.where ? { where: o.where } : {}),
    });
    const found: InputInfo[] = [];
    const skipped: Array<{ path: string; reason: string }> = [];
    for (const ref of refs) {
      const uri = await b.getURI(ref);
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file://')) {
        throw new CliError(
          'REMOTE_DATASTORE',
          `calexp ${ref.id} is at ${uri}; --butler reads calexps in place and needs a local datastore (transfer them to a local repository first)`,
        );
      }
      const path = uri.startsWith('file://') ? fileURLToPath(uri) : uri;
      try {
        found.push(await describeInput(path));
      } catch (e) {
        if (o.strict) throw e;
        skipped.push({ path, reason: (e as Error).message });
      }
    }
    for (const s of skipped) log(`gpu-coadd: skipped ${s.path}: ${s.reason}`);
    if (found.length === 0) {
      throw new CliError(
        'NO_INPUTS',
        `no usable calexp in ${collections.join(', ')}${o.where ? ` where ${o.where}` : ''}; list them with \`butler query-datasets ${o.butler} calexp --collections ${collections.join(',')}\``,
      );
    }
    const targets = skymapTargets(skymap, o.tract);
    const patchOf = new Map<string, { tract: number; patch: number }>();
    for (const id of o.tract ?? Array.from({ length: skymap.numTracts }, (_, i) => i)) {
      for (const p of skymap.tract(id).patches()) {
        patchOf.set(`tract${id}/patch${p.index.x},${p.index.y}`, {
          tract: id,
          patch: p.sequentialIndex,
        });
      }
    }
    const units = planCoadds(found, targets);
    if (units.length === 0) {
      throw new CliError(
        'NO_OVERLAP',
        `none of the ${found.length} calexps overlaps the sky map's ${targets.length} patch(es)`,
      );
    }
    const { backend, reason } = await createBackend({
      ...(o.backend ? { backend: o.backend } : {}),
      threads: o.threads,
    });
    const lanes = await openLanes(backend, o.devices ?? 1, o.threads);
    log(
      `gpu-coadd: ${found.length} calexps from ${o.butler}, ${units.length} patch-band coadds into run ${run}; ${reason}`,
    );
    try {
      const budget = memoryBudget(backend, { deviceMiB: o.deviceMemory, hostMiB: o.hostMemory });
      const results = await runCoadd(units, {
        backend: lanes,
        outDir: scratch,
        statistic: o.statistic,
        kernel: o.kernel,
        threshold: o.threshold,
        clobber: o.clobber,
        budget,
        strict: o.strict,
        readThreads: o.readThreads,
        sink: new ButlerCoaddSink(b, run, skymapName, patchOf, o.threshold),
        onEvent: progressRenderer(o.json),
      });
      const failed = results.filter((r) => 'failed' in r);
      const summary = {
        version: packageVersion(),
        backend: backend.info(),
        devices: lanes.length,
        reason,
        butler: o.butler,
        collections,
        where: o.where ?? null,
        outputRun: run,
        skymap: skymapName,
        inputs: found.map((i) => i.path),
        skipped,
        units: results,
        failed: failed.length,
        seconds: (performance.now() - t0) / 1000,
      };
      if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else
        log(
          `gpu-coadd: done in ${summary.seconds.toFixed(1)} s; outputs in run ${run} of ${o.butler}${failed.length ? `; ${failed.length} of ${results.length} coadds FAILED (see above)` : ''}`,
        );
      if (failed.length === 0) return EXIT.ok;
      return failed.length === results.length ? EXIT.failed : EXIT.partial;
    } finally {
      for (const l of lanes) await l.dispose();
    }
  } finally {
    await b.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
