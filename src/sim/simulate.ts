/**
 * `simulate(config, options)`: renders a simulated survey dataset to a directory.
 *
 * Layout of `outDir` (every file byte-deterministic for a given configuration):
 *   manifest.json                      configuration, data IDs, paths and sha256 of calexps
 *   skymap.json                        a DiscreteSkyMap config (one tract on the field)
 *   truth/sources.csv                  truth catalog (id, type, ra, dec, flux nJy, shape)
 *   truth/visits.csv                   per-visit pointing, PSF, sky
 *   truth/artifacts.json               cosmic rays, bad columns, streaks per visit/detector
 *   calexp/<visit>/calexp_<instrument>_<band>_<visit>_<detector>.fits
 */

import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CpuBackend } from '../compute/cpu/cpu-backend.ts';
import { LEGACY_TRACT_BUILDER } from '../geom/skymap.ts';
import {
  resolveSimConfig,
  type SimConfig,
  type SimConfigInput,
  type SimPresetName,
} from './config.ts';
import { SimError } from './errors.ts';
import { planSimulation, type SimPlan, SOURCE_TYPE } from './plan.ts';
import type { CcdTask, RenderBandArgs } from './render-worker.ts';

const WORKER = new URL(
  import.meta.url.endsWith('.ts') ? './render-worker.ts' : './render-worker.js',
  import.meta.url,
);

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** Output directory (created if missing). */
  readonly outDir: string;
  /** Worker threads (default: one per core; 1 renders on the calling thread). */
  readonly threads?: number;
}

/** One written calexp. */
export interface SimCalexp {
  readonly instrument: string;
  readonly visit: number;
  readonly detector: number;
  readonly band: string;
  readonly physicalFilter: string;
  /** Path relative to the output directory. */
  readonly path: string;
  /** sha256 of the file, hex. */
  readonly sha256: string;
}

/** What {@link simulate} produced. */
export interface SimResult {
  readonly outDir: string;
  readonly config: SimConfig;
  readonly calexps: readonly SimCalexp[];
  /** Relative paths of the other files. */
  readonly files: {
    readonly manifest: string;
    readonly skymap: string;
    readonly truth: string;
    readonly visits: string;
    readonly artifacts: string;
  };
  /** Wall time, seconds (not written to any file). */
  readonly seconds: number;
}

/** Relative path of the calexp of a visit and detector. */
export function calexpPath(config: SimConfig, visit: number, detector: number): string {
  return `calexp/${visit}/calexp_${config.instrument}_${config.band}_${visit}_${String(detector).padStart(3, '0')}.fits`;
}

/**
 * Simulates a dataset (see the module comment for what is written). `config` is a
 * configuration or a preset reference (`{ preset: 'medium', seed: 3 }`).
 * Throws SIM_BAD_CONFIG for a bad configuration and SIM_IO when the output cannot be written.
 */
export async function simulate(
  config: SimConfigInput & { preset?: SimPresetName },
  options: SimulateOptions,
): Promise<SimResult> {
  const t0 = performance.now();
  const c = resolveSimConfig(config);
  const plan = planSimulation(c);
  const outDir = options.outDir;
  const tasks: CcdTask[] = [];
  for (const v of plan.visits) {
    for (const d of plan.detectors) {
      tasks.push({
        visitIndex: v.index,
        detector: d.detector,
        path: calexpPath(c, v.visit, d.detector),
      });
    }
  }
  try {
    for (const dir of new Set(tasks.map((t) => dirname(join(outDir, t.path)))))
      await mkdir(dir, { recursive: true });
    await mkdir(join(outDir, 'truth'), { recursive: true });
  } catch (cause) {
    throw new SimError(
      'SIM_IO',
      `cannot create the output directory ${outDir}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  const files = {
    manifest: 'manifest.json',
    skymap: 'skymap.json',
    truth: 'truth/sources.csv',
    visits: 'truth/visits.csv',
    artifacts: 'truth/artifacts.json',
  };
  await writeText(join(outDir, files.truth), truthCsv(plan));
  await writeText(join(outDir, files.visits), visitsCsv(plan));
  await writeText(join(outDir, files.artifacts), `${JSON.stringify(artifacts(plan), null, 1)}\n`);
  await writeText(join(outDir, files.skymap), `${JSON.stringify(skymapConfig(plan), null, 2)}\n`);

  const hashes = new Uint8Array(new SharedArrayBuffer(32 * tasks.length));
  const cpu = new CpuBackend(options.threads === undefined ? {} : { threads: options.threads });
  try {
    const args: Omit<RenderBandArgs, 'start' | 'end'> = { config: c, outDir, tasks, hashes };
    await cpu.parallelRows(WORKER, 'renderCcdBand', args, tasks.length, {
      pixelsPerRow: c.detector.width * c.detector.height,
      minRowsPerTask: 1,
    });
  } catch (cause) {
    throw new SimError(
      'SIM_IO',
      `rendering or writing calexps failed: ${(cause as Error).message}`,
      { cause },
    );
  } finally {
    await cpu.dispose();
  }
  const calexps: SimCalexp[] = tasks.map((t, i) => ({
    instrument: c.instrument,
    visit: plan.visits[t.visitIndex]!.visit,
    detector: t.detector,
    band: c.band,
    physicalFilter: c.physicalFilter,
    path: t.path,
    sha256: Buffer.from(hashes.subarray(32 * i, 32 * i + 32)).toString('hex'),
  }));
  const manifest = {
    generator: 'gpu-drp simulator',
    config: c,
    datasets: {
      calexp: calexps,
      skymap: files.skymap,
      truth: files.truth,
      visits: files.visits,
      artifacts: files.artifacts,
    },
  };
  await writeText(join(outDir, files.manifest), `${JSON.stringify(manifest, null, 1)}\n`);
  return { outDir, config: c, calexps, files, seconds: (performance.now() - t0) / 1000 };
}

async function writeText(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp`;
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (cause) {
    throw new SimError('SIM_IO', `cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Fixed-precision number formatting so CSV files are byte-deterministic. */
function num(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '';
}

/** The truth catalog as CSV (header line first). */
export function truthCsv(plan: SimPlan): string {
  const t = plan.truth;
  const lines = [
    'id,type,ra_deg,dec_deg,flux_njy,mag_ab,sersic_n,r_half_arcsec,ellipticity,pa_deg',
  ];
  for (let i = 0; i < t.size; i++) {
    const star = t.type[i] === SOURCE_TYPE.star;
    const f = t.flux[i]!;
    lines.push(
      [
        t.id[i],
        star ? 'star' : 'galaxy',
        num(t.ra[i]!, 10),
        num(t.dec[i]!, 10),
        num(f, 4),
        num(31.4 - 2.5 * Math.log10(f), 5),
        star ? '' : num(t.sersicN[i]!, 1),
        star ? '' : num(t.rHalf[i]!, 5),
        star ? '' : num(t.ellipticity[i]!, 5),
        star ? '' : num(t.pa[i]!, 4),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Per-visit truth as CSV. */
export function visitsCsv(plan: SimPlan): string {
  const lines = [
    'visit,index,mjd_mid,exptime_s,boresight_ra_deg,boresight_dec_deg,rotation_deg,psf_model,psf_fwhm_arcsec,moffat_beta,sky_e_per_pixel,njy_per_e,has_streak,unflagged_cosmic_rays',
  ];
  for (const v of plan.visits) {
    lines.push(
      [
        v.visit,
        v.index,
        num(v.mjd, 8),
        plan.config.visits.exposureTime,
        num(v.boresight.ra, 10),
        num(v.boresight.dec, 10),
        num(v.rotation, 6),
        v.psf.model,
        num(v.fwhmArcsec, 6),
        v.psf.model === 'moffat' ? num(v.psf.beta, 6) : '',
        num(plan.skyElectrons, 4),
        num(plan.nJyPerElectron, 8),
        v.streak ? 1 : 0,
        v.unflaggedCosmicRays ? 1 : 0,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Artifacts per visit and detector (cosmic rays, bad columns, streak), JSON-ready. */
export function artifacts(plan: SimPlan): unknown {
  return plan.visits.map((v) => ({
    visit: v.visit,
    streak: v.streak
      ? {
          start: [v.streak.start.ra, v.streak.start.dec],
          end: [v.streak.end.ra, v.streak.end.dec],
          peakNjyPerPixel: v.streak.peakElectrons * plan.nJyPerElectron,
          sigmaPixels: v.streak.sigma,
          flagged: false,
        }
      : null,
    detectors: plan.detectors.map((d) => {
      const ccd = plan.ccd(v.index, d.detector);
      return {
        detector: d.detector,
        badColumns: ccd.badColumns,
        cosmicRays: ccd.cosmicRays.map((cr) => ({
          flagged: cr.flagged,
          pixels: cr.pixels.map(([x, y, e]) => [x, y, Math.round(e * plan.nJyPerElectron)]),
        })),
      };
    }),
  }));
}

/** A DiscreteSkyMap configuration (one tract centred on the field) as JSON. */
export function skymapConfig(plan: SimPlan): unknown {
  const c = plan.config;
  return {
    kind: 'discrete',
    name: `sim-${c.name}`,
    centers: [{ ra: c.field.ra, dec: c.field.dec }],
    radii: [plan.fieldRadius],
    pixelScale: c.pixelScale,
    tractOverlap: 0,
    rotation: 0,
    tractBuilder: {
      ...LEGACY_TRACT_BUILDER,
      patchInnerDimensions: [c.skymap.patchInner, c.skymap.patchInner],
      patchBorder: c.skymap.patchBorder,
    },
  };
}
