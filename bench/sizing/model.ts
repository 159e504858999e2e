/**
 * The facility sizing model: survey parameters + measured throughputs -> devices (GPUs,
 * or CPU cores) per data facility for the warp + coadd + detect steps of an annual data
 * release (DR) campaign and for nightly keep-up, with LSST's CPU figures as the baseline.
 *
 * Pure: no I/O (throughputs come in as data; see throughputs.ts for loading them).
 * Every formula is in docs/sizing.md. Units: pixels (px), seconds (s), bytes (B); rates
 * in 1e6 px/s (Mpix/s) or 1e6 B/s (MB/s). "Device" = one CPU core or one GPU.
 *
 * Default numbers and their sources (shared/reference/lsst.md, sections 4 and 5):
 * - 700 visits per night, 300 nights per year (DMTN-135 survey model, §5);
 * - 189 science CCDs per visit, ITL CCDs 4072 x 4000 px, 0.2"/px (§5 Camera);
 * - 12 B per pixel: float32 image + int32 mask + float32 variance (§5 memory footprints);
 * - skymap lsst_cells_v1: patches 3000 px inner, 3400 px outer (border 200), tracts
 *   about 27k px per side, so 9 x 9 = 81 patches per tract (§4 Skymap);
 * - footprint: RTN-109's DR1 has 7.4M patch-bands; / 6 bands / 81 = 15,226 tracts (§5);
 * - relative visits per band from the SRD 10-year depths u 56, g 80, r 184, i 184,
 *   z 160, y 160 (§5);
 * - patch-visit warps per visit calibrated to RTN-109's DR1: 107M direct warps from 188k
 *   visits = 569 per visit (§5; see `skyOverlapFactor`);
 * - LSST CPU: makeDirectWarp about 36 s per warp, assembleDeepCoadd about 290 s per
 *   patch-band, detectCoaddPeaks about 83 s per patch-band (RTN-109, §5); wall time about
 *   1.14 x CPU time (RTN-109 / DMTN-135, §6 item 7); whole DRP about 170 core-h per visit
 *   (DMTN-135 DR1, §5).
 * Not in lsst.md (stated assumptions, all configurable): the release schedule (DR1 on
 * half a year of data, DR2 on one year, then one per year to DR11 on ten: the issue's
 * DR1..DR11), facility shares 35/25/40% (the issue's example), a 180-day campaign for
 * these steps, a 24-hour nightly window and 80% utilisation.
 */
import { z } from 'zod';
import { SizingError } from './errors.ts';
import {
  COMPRESSIONS,
  type DeviceThroughput,
  issueList,
  STATISTICS,
  stackRateAt,
  type ThroughputSet,
  WARP_KERNELS,
} from './throughputs.ts';

export {
  applyProfile,
  type DeviceThroughput,
  loadThroughputs,
  stackRateAt,
  type ThroughputSet,
} from './throughputs.ts';

const pos = (what: string) =>
  z.number({ error: `${what} must be a number` }).positive(`${what} must be > 0`);
const posInt = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .positive(`${what} must be > 0`);

const SurveySchema = z
  .object({
    /** Visits (exposures of the whole focal plane) per observing night. */
    visitsPerNight: pos('visitsPerNight'),
    /** Observing nights per year. */
    nightsPerYear: pos('nightsPerYear').max(366, 'nightsPerYear must be <= 366'),
    /** Visits per year; null = visitsPerNight x nightsPerYear. */
    visitsPerYear: pos('visitsPerYear').nullable(),
    /** Science CCDs per visit. */
    ccdsPerVisit: posInt('ccdsPerVisit'),
    /** CCD imaging area, px. */
    ccdWidthPx: posInt('ccdWidthPx'),
    ccdHeightPx: posInt('ccdHeightPx'),
    /** Bytes per pixel of an exposure on disk and in memory (image + mask + variance). */
    bytesPerPixel: pos('bytesPerPixel'),
    /**
     * Relative number of visits per band (any scale; a band with weight 0 is left out).
     * An override replaces the whole record.
     * The default is the SRD 10-year depth per band, so each band's share of the visits
     * is its share of the 824 total.
     */
    bandWeights: z
      .record(
        z.string().min(1),
        z.number().nonnegative('band weights must be >= 0 (0 leaves the band out)'),
      )
      .refine((w) => Object.values(w).some((v) => v > 0), 'at least one band needs a weight > 0'),
  })
  .strict();

const SkymapSchema = z
  .object({
    /** Tracts in the survey footprint. */
    tracts: posInt('tracts'),
    /** Patches per tract. */
    patchesPerTract: posInt('patchesPerTract'),
    /** Patch inner size (the tiling pitch), px. */
    patchInnerPx: posInt('patchInnerPx'),
    /** Patch border on each side, px (outer size = inner + 2 x border; coadds cover the outer box). */
    patchBorderPx: z.number().int().nonnegative('patchBorderPx must be >= 0'),
    /** Pixel scale, arcsec/px (only for the footprint area in the report). */
    pixelScaleArcsec: pos('pixelScaleArcsec'),
    /**
     * Mean number of patch grids (tracts) a sky point falls in, and whatever else makes
     * real warp counts exceed the geometric estimate. Multiplies every warp count and
     * warp pixel. Default 1.457 calibrates the model to RTN-109's DR1 (569 patch-visit
     * warps per visit against 390.6 from the geometry with the defaults).
     */
    skyOverlapFactor: z.number().min(1, 'skyOverlapFactor must be >= 1'),
  })
  .strict();

const ReleaseSchema = z
  .object({
    name: z.string().min(1),
    /** Years of survey data the release processes. */
    years: pos('release years'),
  })
  .strict();

const FacilitySchema = z
  .object({
    name: z.string().min(1),
    /** Percent of the DR campaign's work done here. */
    sharePercent: z
      .number()
      .min(0, 'sharePercent must be >= 0')
      .max(100, 'sharePercent must be <= 100'),
    /** Percent of the nightly keep-up work done here; null = sharePercent. */
    nightlySharePercent: z
      .number()
      .min(0, 'nightlySharePercent must be >= 0')
      .max(100, 'nightlySharePercent must be <= 100')
      .nullable(),
  })
  .strict();

const ScheduleSchema = z
  .object({
    /** Days the DR campaign gives the warp + coadd + detect steps. */
    campaignDays: pos('campaignDays').max(366, 'campaignDays must be <= 366 (annual releases)'),
    /** Hours within which a night's data must be processed. */
    nightlyWindowHours: pos('nightlyWindowHours').max(168, 'nightlyWindowHours must be <= 168'),
    /** Fraction of wall time a device does useful work (scheduling, failures, drain). */
    utilisation: pos('utilisation').max(1, 'utilisation must be <= 1'),
  })
  .strict();

const ProcessingSchema = z
  .object({
    warpKernel: z.enum(WARP_KERNELS),
    stackStatistic: z.enum(STATISTICS),
    /** Times each input CCD is read (1: all its patch pieces warped from one read). */
    inputReadsPerCcd: z.number().nonnegative('inputReadsPerCcd must be >= 0'),
    /** Count the coadd writes (patch-band outer box, bytesPerPixel) as I/O. */
    writeCoadds: z.boolean(),
    /** Encoding of the input files (picks the FITS read rate). */
    inputCompression: z.enum(COMPRESSIONS),
    /** Nightly: also add each new warp into running per-patch-band sums (priced at the MEAN stack rate). */
    nightlyAccumulate: z.boolean(),
  })
  .strict();

const LsstSchema = z
  .object({
    /** CPU seconds per patch-visit warp (makeDirectWarp). */
    warpCpuS: z.number().nonnegative(),
    /** CPU seconds per patch-band stack (assembleDeepCoadd). */
    stackCpuS: z.number().nonnegative(),
    /** CPU seconds per patch-band detection (detectCoaddPeaks); counted when includeDetect. */
    detectCpuS: z.number().nonnegative(),
    includeDetect: z.boolean(),
    /**
     * null: stackCpuS per patch-band whatever its visit count (the issue's figure);
     * a number N0: stackCpuS x N / N0 (RTN-109: coadd CPU grows linearly with visits).
     */
    stackReferenceVisits: pos('stackReferenceVisits').nullable(),
    /** Wall time / CPU time of LSST jobs. */
    wallPerCpu: z.number().min(1, 'wallPerCpu must be >= 1'),
    /** Whole-DRP core-hours per visit, for context only. */
    wholeDrCoreHoursPerVisit: z.number().nonnegative(),
  })
  .strict();

/** Every input of the model, validated. Build with {@link parseSizingInputs}. */
export const SizingInputsSchema = z
  .object({
    survey: SurveySchema,
    skymap: SkymapSchema,
    releases: z.array(ReleaseSchema).min(1, 'releases needs at least one release'),
    /** The release the per-facility tables and the chart are for. */
    sizeFor: z.string().min(1),
    facilities: z.array(FacilitySchema).min(1, 'facilities needs at least one facility'),
    schedule: ScheduleSchema,
    processing: ProcessingSchema,
    lsst: LsstSchema,
  })
  .strict()
  .superRefine((v, ctx) => {
    const names = v.releases.map((r) => r.name);
    if (new Set(names).size !== names.length)
      ctx.addIssue({ code: 'custom', path: ['releases'], message: 'release names must be unique' });
    if (!names.includes(v.sizeFor))
      ctx.addIssue({
        code: 'custom',
        path: ['sizeFor'],
        message: `sizeFor '${v.sizeFor}' is not a release (have ${names.join(', ')})`,
      });
    const fac = v.facilities.map((f) => f.name);
    if (new Set(fac).size !== fac.length)
      ctx.addIssue({
        code: 'custom',
        path: ['facilities'],
        message: 'facility names must be unique',
      });
    const sum = v.facilities.reduce((s, f) => s + f.sharePercent, 0);
    if (Math.abs(sum - 100) > 1e-6)
      ctx.addIssue({
        code: 'custom',
        path: ['facilities'],
        message: `facility shares must sum to 100%, got ${+sum.toFixed(6)}% (${v.facilities.map((f) => `${f.name} ${f.sharePercent}%`).join(', ')})`,
      });
    const nightly = v.facilities.map((f) => f.nightlySharePercent);
    if (nightly.some((x) => x !== null)) {
      if (nightly.some((x) => x === null))
        ctx.addIssue({
          code: 'custom',
          path: ['facilities'],
          message: 'give nightlySharePercent for every facility or for none',
        });
      else {
        const ns = (nightly as number[]).reduce((s, x) => s + x, 0);
        if (Math.abs(ns - 100) > 1e-6)
          ctx.addIssue({
            code: 'custom',
            path: ['facilities'],
            message: `nightly facility shares must sum to 100%, got ${+ns.toFixed(6)}%`,
          });
      }
    }
  });

/** Validated model inputs (see {@link SizingInputsSchema} for units and meanings). */
export type SizingInputs = z.output<typeof SizingInputsSchema>;

/** The default inputs (sources in this file's header and in docs/sizing.md). */
export const DEFAULT_INPUTS: SizingInputs = {
  survey: {
    visitsPerNight: 700,
    nightsPerYear: 300,
    visitsPerYear: null,
    ccdsPerVisit: 189,
    ccdWidthPx: 4072,
    ccdHeightPx: 4000,
    bytesPerPixel: 12,
    bandWeights: { u: 56, g: 80, r: 184, i: 184, z: 160, y: 160 },
  },
  skymap: {
    tracts: 15_226,
    patchesPerTract: 81,
    patchInnerPx: 3000,
    patchBorderPx: 200,
    pixelScaleArcsec: 0.2,
    skyOverlapFactor: 1.457,
  },
  releases: [
    { name: 'DR1', years: 0.5 },
    ...Array.from({ length: 10 }, (_, i) => ({ name: `DR${i + 2}`, years: i + 1 })),
  ],
  sizeFor: 'DR11',
  facilities: [
    { name: 'USDF', sharePercent: 35, nightlySharePercent: null },
    { name: 'FrDF', sharePercent: 25, nightlySharePercent: null },
    { name: 'UKDF', sharePercent: 40, nightlySharePercent: null },
  ],
  schedule: { campaignDays: 180, nightlyWindowHours: 24, utilisation: 0.8 },
  processing: {
    warpKernel: 'lanczos3',
    stackStatistic: 'MEANCLIP',
    inputReadsPerCcd: 1,
    writeCoadds: true,
    inputCompression: 'uncompressed',
    nightlyAccumulate: false,
  },
  lsst: {
    warpCpuS: 36,
    stackCpuS: 290,
    detectCpuS: 83,
    includeDetect: true,
    stackReferenceVisits: null,
    wallPerCpu: 1.14,
    wholeDrCoreHoursPerVisit: 170,
  },
};

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Input paths whose override replaces the default as a whole (a record of bands, not fields). */
const REPLACED = new Set(['survey.bandWeights']);

/**
 * `over` merged onto `base`: plain objects key by key (recursively), everything else
 * (numbers, strings, arrays such as `releases` and `facilities`) replaced; so is
 * `survey.bandWeights` (the bands given are the bands used).
 */
export function deepMerge(base: unknown, over: unknown, path = ''): unknown {
  if (REPLACED.has(path) || !isPlainObject(base) || !isPlainObject(over))
    return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = deepMerge(base[k], v, path ? `${path}.${k}` : k);
  return out;
}

/**
 * Validate `overrides` (a partial inputs object, e.g. from a survey JSON/YAML file)
 * merged onto {@link DEFAULT_INPUTS}. Throws SizingError SIZING_BAD_INPUT listing every
 * problem by path (negative visits, shares not summing to 100%, unknown keys, ...).
 */
export function parseSizingInputs(overrides: unknown = {}, where = 'sizing inputs'): SizingInputs {
  if (overrides !== undefined && overrides !== null && !isPlainObject(overrides)) {
    throw new SizingError(
      'SIZING_BAD_INPUT',
      `${where} must be an object of overrides such as { survey: { visitsPerNight: 800 } }, got ${Array.isArray(overrides) ? 'an array' : typeof overrides}`,
    );
  }
  const r = SizingInputsSchema.safeParse(deepMerge(DEFAULT_INPUTS, overrides ?? {}));
  if (!r.success) {
    throw new SizingError(
      'SIZING_BAD_INPUT',
      `invalid ${where}: ${issueList(r.error.issues)}. Fix these values (docs/sizing.md lists every input)`,
    );
  }
  return r.data;
}

/** Quantities that follow from the inputs alone (no release, no device). */
export interface Geometry {
  /** Visits per year actually used. */
  readonly visitsPerYear: number;
  /** Patch outer size O = inner + 2 x border, px. */
  readonly patchOuterPx: number;
  /** Pixels of one coadd (the outer box), O^2. */
  readonly patchPixels: number;
  /** Pixels of one CCD, w x h. */
  readonly ccdPixels: number;
  /** Bytes of one CCD exposure, w x h x bytesPerPixel. */
  readonly ccdBytes: number;
  /** Mean (CCD, patch) warp pieces per CCD: f x (w + O) / P x (h + O) / P. */
  readonly ccdWarpsPerCcd: number;
  /** Warp output pixels per CCD: f x w x h x (O / P)^2. */
  readonly warpPixelsPerCcd: number;
  /** Focal plane area A = CCDs x w x h, px (as a disk of radius sqrt(A / pi)). */
  readonly focalPlanePx: number;
  /** Geometric patch-visit warps per visit before the overlap factor: (A + 4 R O + O^2) / P^2. */
  readonly geometricWarpsPerVisit: number;
  /** Patch-visit warps per visit: f x geometricWarpsPerVisit. */
  readonly patchWarpsPerVisit: number;
  /** Patches in the footprint: tracts x patchesPerTract. */
  readonly patches: number;
  /** Bands with weight > 0 and their share of the visits. */
  readonly bands: readonly { readonly band: string; readonly fraction: number }[];
  /** Distinct sky area of the footprint, deg^2: patches x (P x scale)^2 / f. */
  readonly footprintDeg2: number;
}

/** The model's geometry for `inputs` (formulas in docs/sizing.md, section 2). */
export function geometry(inputs: SizingInputs): Geometry {
  const { survey: s, skymap: m } = inputs;
  const P = m.patchInnerPx;
  const O = P + 2 * m.patchBorderPx;
  const f = m.skyOverlapFactor;
  const w = s.ccdWidthPx;
  const h = s.ccdHeightPx;
  const A = s.ccdsPerVisit * w * h;
  const R = Math.sqrt(A / Math.PI);
  const geometricWarpsPerVisit = (A + 4 * R * O + O * O) / (P * P);
  const weights = Object.entries(s.bandWeights).filter(([, x]) => x > 0);
  const total = weights.reduce((t, [, x]) => t + x, 0);
  const patches = m.tracts * m.patchesPerTract;
  return {
    visitsPerYear: s.visitsPerYear ?? s.visitsPerNight * s.nightsPerYear,
    patchOuterPx: O,
    patchPixels: O * O,
    ccdPixels: w * h,
    ccdBytes: w * h * s.bytesPerPixel,
    ccdWarpsPerCcd: (f * ((w + O) / P) * (h + O)) / P,
    warpPixelsPerCcd: f * w * h * (O / P) ** 2,
    focalPlanePx: A,
    geometricWarpsPerVisit,
    patchWarpsPerVisit: f * geometricWarpsPerVisit,
    patches,
    bands: weights.map(([band, x]) => ({ band, fraction: x / total })),
    footprintDeg2: (patches * ((P * m.pixelScaleArcsec) / 3600) ** 2) / f,
  };
}

/** Work of one release campaign, or of one night. Counts are plain numbers (not rounded). */
export interface Work {
  /** 'DR11', or 'nightly'. */
  readonly name: string;
  /** Years of data (a night: 1 / nightsPerYear). */
  readonly years: number;
  readonly visits: number;
  /** CCD exposures = visits x CCDs per visit. */
  readonly ccdExposures: number;
  /** (CCD, patch) warp pieces = CCD exposures x ccdWarpsPerCcd. */
  readonly ccdWarps: number;
  /** Warp output pixels = CCD exposures x warpPixelsPerCcd. */
  readonly warpOutputPixels: number;
  /** Patch-visit warps (LSST's warp unit; stack inputs) = visits x patchWarpsPerVisit. */
  readonly patchVisitWarps: number;
  /** Patch-band coadds made (0 for a night). */
  readonly patchBands: number;
  /** Mean stack inputs per patch-band, by band: N_b = warps x fraction_b / patches. */
  readonly visitsPerPatchBand: readonly { readonly band: string; readonly n: number }[];
  /** Stack input pixels = warps x O^2 (0 for a night). */
  readonly stackInputPixels: number;
  /** Coadd pixels (detection input) = patch-bands x O^2 (0 for a night). */
  readonly coaddPixels: number;
  /** Nightly accumulation input pixels = warps x O^2 when nightlyAccumulate, else 0. */
  readonly accumulatePixels: number;
  /** Bytes read: CCD exposures x CCD bytes x inputReadsPerCcd. */
  readonly inputBytes: number;
  /** Bytes written: coadd pixels x bytesPerPixel when writeCoadds, else 0. */
  readonly outputBytes: number;
}

/** The work of release `name` covering `years` of data (warp + stack + detect). */
export function releaseWork(inputs: SizingInputs, g: Geometry, name: string, years: number): Work {
  const visits = g.visitsPerYear * years;
  const warps = visits * g.patchWarpsPerVisit;
  const ccdExposures = visits * inputs.survey.ccdsPerVisit;
  const patchBands = g.patches * g.bands.length;
  const coaddPixels = patchBands * g.patchPixels;
  return {
    name,
    years,
    visits,
    ccdExposures,
    ccdWarps: ccdExposures * g.ccdWarpsPerCcd,
    warpOutputPixels: ccdExposures * g.warpPixelsPerCcd,
    patchVisitWarps: warps,
    patchBands,
    visitsPerPatchBand: g.bands.map((b) => ({ band: b.band, n: (warps * b.fraction) / g.patches })),
    stackInputPixels: warps * g.patchPixels,
    coaddPixels,
    accumulatePixels: 0,
    inputBytes: ccdExposures * g.ccdBytes * inputs.processing.inputReadsPerCcd,
    outputBytes: inputs.processing.writeCoadds ? coaddPixels * inputs.survey.bytesPerPixel : 0,
  };
}

/** One night's keep-up work: the night's visits warped (and accumulated when asked). */
export function nightlyWork(inputs: SizingInputs, g: Geometry): Work {
  const visits = inputs.survey.visitsPerNight;
  const warps = visits * g.patchWarpsPerVisit;
  const ccdExposures = visits * inputs.survey.ccdsPerVisit;
  return {
    name: 'nightly',
    years: 1 / inputs.survey.nightsPerYear,
    visits,
    ccdExposures,
    ccdWarps: ccdExposures * g.ccdWarpsPerCcd,
    warpOutputPixels: ccdExposures * g.warpPixelsPerCcd,
    patchVisitWarps: warps,
    patchBands: 0,
    visitsPerPatchBand: [],
    stackInputPixels: 0,
    coaddPixels: 0,
    accumulatePixels: inputs.processing.nightlyAccumulate ? warps * g.patchPixels : 0,
    inputBytes: ccdExposures * g.ccdBytes * inputs.processing.inputReadsPerCcd,
    outputBytes: 0,
  };
}

/** Steps the model times. `accumulate` is nightly only. */
export const STEPS = ['warp', 'stack', 'detect', 'accumulate', 'io'] as const;
export type Step = (typeof STEPS)[number];

/** Device time for a piece of work on one device profile. */
export interface DeviceTime {
  readonly deviceId: string;
  /** Device-seconds per step; null where the device has no throughput for a step the work needs. */
  readonly seconds: Readonly<Partial<Record<Step, number | null>>>;
  /** Sum of the known steps' device-seconds. */
  readonly totalSeconds: number;
  /** Steps the work needs that the device has no figure for (then totals are lower bounds). */
  readonly missing: readonly Step[];
  /** Bands whose stack rate was extrapolated outside the measured N range. */
  readonly stackExtrapolated: readonly { readonly band: string; readonly n: number }[];
  /** Devices needed = totalSeconds / (window x utilisation). */
  readonly devices: number;
}

/** Seconds a device can give in a window: release campaign or nightly window, x utilisation. */
export function windowSeconds(inputs: SizingInputs, kind: 'release' | 'nightly'): number {
  const s = inputs.schedule;
  return (
    (kind === 'release' ? s.campaignDays * 86_400 : s.nightlyWindowHours * 3600) * s.utilisation
  );
}

/**
 * Device-seconds per step of `work` on `device`:
 * warp = warp output px / warp rate; stack = sum over bands of patches x N_b x O^2 /
 * stackRate(N_b); detect = coadd px / detect rate; accumulate = accumulate px / MEAN
 * rate at the smallest measured N; io = (input + output bytes) / read rate.
 */
export function deviceTime(
  inputs: SizingInputs,
  g: Geometry,
  work: Work,
  device: DeviceThroughput,
  window: number,
): DeviceTime {
  const p = inputs.processing;
  const seconds: Partial<Record<Step, number | null>> = {};
  const stackExtrapolated: { band: string; n: number }[] = [];
  const warp = device.warpMpixPerS[p.warpKernel];
  seconds.warp = warp ? work.warpOutputPixels / (warp.value * 1e6) : null;
  if (work.patchBands > 0) {
    const points = device.stack[p.stackStatistic];
    if (points && points.length > 0) {
      let t = 0;
      for (const b of work.visitsPerPatchBand) {
        const r = stackRateAt(points, b.n);
        if (r.extrapolated) stackExtrapolated.push({ band: b.band, n: b.n });
        t += (g.patches * b.n * g.patchPixels) / (r.minputPerS * 1e6);
      }
      seconds.stack = t;
    } else seconds.stack = null;
    seconds.detect = device.detectMpixPerS
      ? work.coaddPixels / (device.detectMpixPerS.value * 1e6)
      : null;
  }
  if (work.accumulatePixels > 0) {
    const mean = device.stack.MEAN?.[0];
    seconds.accumulate = mean ? work.accumulatePixels / (mean.minputPerS * 1e6) : null;
  }
  const io = device.ioMBPerS[p.inputCompression];
  const bytes = work.inputBytes + work.outputBytes;
  if (bytes > 0) seconds.io = io ? bytes / (io.value * 1e6) : null;
  const missing = STEPS.filter((s) => seconds[s] === null);
  const totalSeconds = STEPS.reduce((t, s) => t + (seconds[s] ?? 0), 0);
  return {
    deviceId: device.id,
    seconds,
    totalSeconds,
    missing,
    stackExtrapolated,
    devices: totalSeconds / window,
  };
}

/** LSST's CPU for the same work, from its per-task CPU figures. */
export interface LsstBaseline {
  /** CPU seconds per step. */
  readonly cpuSeconds: { readonly warp: number; readonly stack: number; readonly detect: number };
  readonly totalCpuSeconds: number;
  /** totalCpuSeconds / 3600. */
  readonly coreHours: number;
  /** Cores needed = total CPU s x wallPerCpu / (window x utilisation). */
  readonly cores: number;
  /** This work's core-hours as a fraction of the whole DRP at wholeDrCoreHoursPerVisit (releases only). */
  readonly fractionOfWholeDr: number | null;
}

/**
 * LSST baseline: warp = warpCpuS x patch-visit warps; stack = stackCpuS x patch-bands
 * (x N_b / stackReferenceVisits per band when that is set); detect = detectCpuS x
 * patch-bands when includeDetect; cores = CPU s x wallPerCpu / window.
 */
export function lsstBaseline(
  inputs: SizingInputs,
  g: Geometry,
  work: Work,
  window: number,
): LsstBaseline {
  const l = inputs.lsst;
  const warp = l.warpCpuS * work.patchVisitWarps;
  const ref = l.stackReferenceVisits;
  const stack = work.visitsPerPatchBand.reduce(
    (t, b) => t + l.stackCpuS * g.patches * (ref === null ? 1 : b.n / ref),
    0,
  );
  const detect = l.includeDetect ? l.detectCpuS * work.patchBands : 0;
  const total = warp + stack + detect;
  const whole = l.wholeDrCoreHoursPerVisit * work.visits;
  return {
    cpuSeconds: { warp, stack, detect },
    totalCpuSeconds: total,
    coreHours: total / 3600,
    cores: (total * l.wallPerCpu) / window,
    fractionOfWholeDr: work.patchBands > 0 && whole > 0 ? total / 3600 / whole : null,
  };
}

/** Devices needed at one facility for one device profile. */
export interface FacilityDevices {
  readonly deviceId: string;
  /** Unrounded: total devices x share. */
  readonly exact: number;
  /** Whole devices (rounded up). */
  readonly whole: number;
}

/** One facility's row: its share, the devices per profile, and LSST's cores. */
export interface FacilityRow {
  readonly name: string;
  readonly sharePercent: number;
  readonly devices: readonly FacilityDevices[];
  readonly lsstCores: { readonly exact: number; readonly whole: number };
}

/** A campaign (a release, or one night) sized on every device. */
export interface Campaign {
  readonly work: Work;
  /** Device-seconds available per device: window x utilisation. */
  readonly windowSeconds: number;
  readonly perDevice: readonly DeviceTime[];
  readonly lsst: LsstBaseline;
}

/** Per device: LSST cores replaced by one device (LSST cores / devices needed). */
export interface Ratio {
  readonly deviceId: string;
  readonly release: number | null;
  readonly nightly: number | null;
}

/** The model's full answer. */
export interface SizingResult {
  readonly inputs: SizingInputs;
  readonly geometry: Geometry;
  readonly devices: readonly DeviceThroughput[];
  /** Every release in input order. */
  readonly releases: readonly Campaign[];
  /** The release sized per facility (inputs.sizeFor). */
  readonly sizedRelease: string;
  readonly nightly: Campaign;
  readonly facilities: {
    readonly release: readonly FacilityRow[];
    readonly nightly: readonly FacilityRow[];
  };
  readonly ratios: readonly Ratio[];
  /** Assumptions and caveats in words, in a stable order. */
  readonly caveats: readonly string[];
}

function wholeUp(x: number): number {
  // Rounding up, but 12.0000000001 (float noise) stays 12; never -0.
  return Math.max(0, Math.ceil(x - 1e-9));
}

function facilityRows(
  inputs: SizingInputs,
  c: Campaign,
  kind: 'release' | 'nightly',
): FacilityRow[] {
  return inputs.facilities.map((f) => {
    const share = kind === 'nightly' ? (f.nightlySharePercent ?? f.sharePercent) : f.sharePercent;
    const lsst = (c.lsst.cores * share) / 100;
    return {
      name: f.name,
      sharePercent: share,
      devices: c.perDevice.map((d) => {
        const exact = (d.devices * share) / 100;
        return { deviceId: d.deviceId, exact, whole: wholeUp(exact) };
      }),
      lsstCores: { exact: lsst, whole: wholeUp(lsst) },
    };
  });
}

/**
 * Size the facilities: every release and one night on every device of `throughputs`,
 * the LSST baseline, per-facility devices for `inputs.sizeFor` and for nightly
 * keep-up, LSST cores per device, and the caveats that apply.
 */
export function sizeFacilities(inputs: SizingInputs, throughputs: ThroughputSet): SizingResult {
  const g = geometry(inputs);
  const devices = throughputs.devices;
  const campaign = (work: Work, kind: 'release' | 'nightly'): Campaign => {
    const w = windowSeconds(inputs, kind);
    return {
      work,
      windowSeconds: w,
      perDevice: devices.map((d) => deviceTime(inputs, g, work, d, w)),
      lsst: lsstBaseline(inputs, g, work, w),
    };
  };
  const releases = inputs.releases.map((r) =>
    campaign(releaseWork(inputs, g, r.name, r.years), 'release'),
  );
  const nightly = campaign(nightlyWork(inputs, g), 'nightly');
  const sized = releases.find((c) => c.work.name === inputs.sizeFor)!;
  const ratios: Ratio[] = devices.map((d, i) => {
    const r = sized.perDevice[i]!;
    const n = nightly.perDevice[i]!;
    return {
      deviceId: d.id,
      release: r.missing.length === 0 && r.devices > 0 ? sized.lsst.cores / r.devices : null,
      nightly: n.missing.length === 0 && n.devices > 0 ? nightly.lsst.cores / n.devices : null,
    };
  });
  return {
    inputs,
    geometry: g,
    devices,
    releases,
    sizedRelease: inputs.sizeFor,
    nightly,
    facilities: {
      release: facilityRows(inputs, sized, 'release'),
      nightly: facilityRows(inputs, nightly, 'nightly'),
    },
    ratios,
    caveats: caveats(inputs, devices, releases, nightly),
  };
}

function caveats(
  inputs: SizingInputs,
  devices: readonly DeviceThroughput[],
  releases: readonly Campaign[],
  nightly: Campaign,
): string[] {
  const out: string[] = [];
  if (!devices.some((d) => d.kind === 'gpu' && d.origin === 'measured')) {
    out.push(
      'No hardware GPU benchmark record (backend webgpu on a hardware adapter) was found: no GPU figure here is measured. Run gpu-bench warp/stack/detect on an H100/H200 (scripts/gpu-machine/README.md), commit the records under bench/results/, and re-run gpu-bench size.',
    );
  }
  for (const d of devices) {
    if (d.kind === 'software-gpu')
      out.push(
        `${d.label}: a software adapter (the CPU emulating a GPU), measured for correctness only. Its rows are not GPU performance; it is left out of the facility tables and the chart.`,
      );
    if (d.origin === 'projection')
      out.push(
        `${d.label}: figures from a profile marked as a projection (targets, not measurements)${d.notes.length ? `: ${d.notes.join(' ').replace(/\.$/, '')}` : ''}.`,
      );
    if (d.kind === 'cpu-core' && d.origin === 'measured')
      out.push(
        `${d.label}: per-core rates are the machine's rate divided by its thread count (linear scaling with cores assumed; a shared VM's timings vary by about ±20%).`,
      );
  }
  for (let i = 0; i < devices.length; i++) {
    const d = devices[i]!;
    const missing = new Set<Step>();
    let lowN = Number.POSITIVE_INFINITY;
    let highN = 0;
    for (const c of [...releases, nightly]) {
      const t = c.perDevice[i]!;
      for (const s of t.missing) missing.add(s);
      for (const e of t.stackExtrapolated) {
        lowN = Math.min(lowN, e.n);
        highN = Math.max(highN, e.n);
      }
    }
    if (missing.size > 0)
      out.push(
        `${d.label}: no throughput for ${[...missing].join(', ')}; its totals count the other steps only (lower bounds, shown with ≥).`,
      );
    const pts = d.stack[inputs.processing.stackStatistic];
    if (highN > 0 && pts) {
      const ns = pts.map((p) => p.n);
      const lo = ns[0]!;
      const hi = ns[ns.length - 1]!;
      const range = `${lowN.toPrecision(3)}..${highN.toPrecision(3)}`;
      const how =
        pts.length > 1
          ? `outside N = ${lo}..${hi} the power law of the nearest measured pair is extended, only in the direction that makes the device slower`
          : `the N = ${lo} input rate is used for every N (stack time proportional to N)`;
      out.push(
        `${d.label}: ${inputs.processing.stackStatistic} stack rate measured at N = ${ns.join(', ')} but needed at mean N per patch-band from ${range}; ${how}. Stack benchmarks at N = 10..200 would replace the extrapolation.`,
      );
    }
  }
  out.push(
    'I/O is the time to read and decode each input CCD (and write each coadd) at the FITS read benchmark rate of one reader thread per device; it is added to compute time (no overlap assumed). On a GPU node the feed (storage, PCIe) may bound throughput more than the kernels.',
  );
  out.push(
    `Work counts use mean visits per patch-band per band; real depth varies across the footprint. Warp pieces and pixels assume axis-aligned CCDs on a patch grid (expected overlaps of randomly placed rectangles) times skyOverlapFactor ${inputs.skymap.skyOverlapFactor}, which calibrates the geometric estimate to RTN-109's DR1 (107M warps / 188k visits).`,
  );
  out.push(
    `LSST baseline: makeDirectWarp ${inputs.lsst.warpCpuS} s per patch-visit warp, assembleDeepCoadd ${inputs.lsst.stackCpuS} s per patch-band${inputs.lsst.stackReferenceVisits === null ? ' (constant in N, as the issue states it; RTN-109 says coadd CPU grows linearly with visits, so later releases cost LSST more than shown; set lsst.stackReferenceVisits to scale it)' : ` scaled by N / ${inputs.lsst.stackReferenceVisits}`}${inputs.lsst.includeDetect ? `, detectCoaddPeaks ${inputs.lsst.detectCpuS} s per patch-band` : ''}, wall = ${inputs.lsst.wallPerCpu} x CPU. LSST's warps also make masked-fraction images and noise realizations, its coadds need PSF-matched warps (about 37 s each, not counted) and its measurement is far richer than ours: the steps are comparable in role, not identical in content.`,
  );
  if (inputs.processing.inputReadsPerCcd === 1)
    out.push(
      'Each input CCD is read once (all its patch pieces warped from one read, as the scheduler batches CCD-level work); src/scheduler/run-coadd.ts today reads a CCD once per (patch, band) unit it overlaps — set processing.inputReadsPerCcd to the pieces per CCD to size that.',
    );
  return out;
}
