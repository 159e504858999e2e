/**
 * Simulator configuration: a zod schema with LSST-like defaults (the `tiny` preset) and
 * named presets. Units are in every field's description; pixel coordinates are 0-based.
 */

import { z } from 'zod';
import { SimError } from './errors.ts';

/** The simulator's configuration schema (every field has a default; see docs/data-model.md). */
export const SimConfig = z
  .object({
    /** Name of the dataset (the preset name by default); used for the skymap name. */
    name: z.string().min(1).default('tiny'),
    /** Master seed (32-bit unsigned); every random stream derives from it. */
    seed: z.number().int().min(0).max(0xffffffff).default(1),
    /** Instrument name written to INSTRUME and the data IDs. */
    instrument: z.string().min(1).default('SimCam'),
    /** Abstract band (data-ID `band`). */
    band: z.string().min(1).default('r'),
    /** Physical filter (data-ID `physical_filter`). */
    physicalFilter: z.string().min(1).default('r_sim'),
    /** Field centre, degrees (ICRS). */
    field: z
      .object({
        ra: z.number().min(0).lt(360).default(150.0),
        dec: z.number().min(-80).max(80).default(2.2),
      })
      .prefault({}),
    /** Nominal pixel scale, arcsec/pixel. */
    pixelScale: z.number().positive().max(5).default(0.2),
    /** CCD size, pixels. */
    detector: z
      .object({
        width: z.number().int().min(32).max(8192).default(256),
        height: z.number().int().min(32).max(8192).default(256),
      })
      .prefault({}),
    /** Focal plane: nx x ny CCDs separated by `gap` pixels, centred on the boresight. */
    focalPlane: z
      .object({
        nx: z.number().int().min(1).max(16).default(2),
        ny: z.number().int().min(1).max(16).default(1),
        gap: z.number().int().min(0).max(2000).default(40),
      })
      .prefault({}),
    /**
     * Radial optical distortion: displacement in pixels at 1000 pixels from the boresight
     * (cubic, so 8x that at 2000 px). Encoded exactly as SIP A/B order-3 terms.
     */
    distortion: z.number().min(0).max(10).default(0.1),
    /** Visits. */
    visits: z
      .object({
        count: z.number().int().min(1).max(1000).default(4),
        /** Visit id of the first visit; later visits count up by one. */
        first: z.number().int().min(0).default(1000),
        /** MJD (TAI) of the start of the first visit, days. */
        mjdStart: z.number().default(60600.1),
        /** Time between visit starts, days. */
        cadenceDays: z.number().positive().default(0.025),
        /** Exposure time, seconds. */
        exposureTime: z.number().positive().default(30),
        /** Boresight dithers are uniform in a disk of this radius, arcsec. */
        ditherArcsec: z.number().min(0).default(10),
        /** Rotation angle (ROTPA) uniform in [min, max), degrees. */
        rotationMin: z.number().default(0),
        rotationMax: z.number().default(360),
      })
      .prefault({}),
    /** Per-visit PSF: FWHM uniform in [fwhmMin, fwhmMax] arcsec; Moffat beta uniform. */
    psf: z
      .object({
        /** 'mixed' alternates Moffat (even visit index) and Gaussian (odd). */
        model: z.enum(['gaussian', 'moffat', 'mixed']).default('mixed'),
        fwhmMin: z.number().positive().default(0.6),
        fwhmMax: z.number().positive().default(1.2),
        betaMin: z.number().gt(1.5).default(2.5),
        betaMax: z.number().gt(1.5).default(4.5),
      })
      .prefault({}),
    /** Photometry and detector electronics. */
    photometry: z
      .object({
        /** AB magnitude that gives 1 electron per second. */
        zeroPoint: z.number().default(28.4),
        /** Sky surface brightness, AB mag/arcsec^2. */
        skyMag: z.number().default(21.2),
        /** Linear sky gradient: fractional change of the sky level across a CCD. */
        skyGradient: z.number().min(0).max(1).default(0.02),
        /** Gain, electrons/ADU. */
        gain: z.number().positive().default(1.5),
        /** Read noise, electrons rms. */
        readNoise: z.number().min(0).default(6),
        /** Saturation level, ADU (of the raw pixel, sky included). */
        saturation: z.number().positive().default(30000),
      })
      .prefault({}),
    /** Stars: point sources with fluxes whose S/N at the median seeing spans [snrMin, snrMax]. */
    stars: z
      .object({
        /** Per arcmin^2. */
        density: z.number().min(0).default(25),
        snrMin: z.number().positive().default(3),
        snrMax: z.number().positive().default(1000),
        /** N(>S/N) ~ (S/N)^-slope (0 = log-uniform); shallower than real counts. */
        slope: z.number().min(0).default(0.5),
        /**
         * Extra stars at S/N = snrMax, this many per detector, placed in the central half
         * of each CCD of the first visit (so every CCD has bright, often saturated, stars).
         */
        brightPerCcd: z.number().int().min(0).default(1),
      })
      .prefault({}),
    /** Galaxies: elliptical Sersic-like profiles. */
    galaxies: z
      .object({
        density: z.number().min(0).default(30),
        snrMin: z.number().positive().default(5),
        snrMax: z.number().positive().default(300),
        slope: z.number().min(0).default(1),
        sersicMin: z.number().min(0.5).max(4).default(0.5),
        sersicMax: z.number().min(0.5).max(4).default(4),
        /** Median semi-major half-light radius, arcsec (log-normal, sigma 0.4 in ln). */
        rHalfMedian: z.number().positive().default(0.5),
        /** Half-light radii are clipped to [0.15, rHalfMax] arcsec. */
        rHalfMax: z.number().positive().default(1.5),
        /** Ellipticity 1 - b/a uniform in [0, ellipticityMax]. */
        ellipticityMax: z.number().min(0).max(0.9).default(0.6),
      })
      .prefault({}),
    /** Cosmic rays: flagged CR+INTRP and ideally repaired, except the unflagged ones. */
    cosmicRays: z
      .object({
        /** Mean number per megapixel per visit. */
        perMegapixel: z.number().min(0).default(40),
        /** Unflagged (left in the pixels, no mask bit) per CCD, in the visits that have them. */
        unflaggedPerCcd: z.number().int().min(0).default(3),
        /** Visits with index i where i % n == n - 1 have unflagged cosmic rays (0: none). */
        unflaggedEvery: z.number().int().min(0).default(2),
      })
      .prefault({}),
    /** Satellite streaks (unflagged), one across the focal plane in some visits. */
    streaks: z
      .object({
        /** Visits with index i where i % n == n - 1 have a streak (0: none). */
        every: z.number().int().min(0).default(3),
        /** Peak surface brightness in units of the per-pixel sky noise. */
        peakSnr: z.number().min(0).default(8),
      })
      .prefault({}),
    /** Bad (hot) column segments, fixed per detector, flagged BAD. */
    badColumns: z
      .object({
        perCcd: z.number().int().min(0).default(2),
        /** Excess in units of the per-pixel sky noise. */
        hotSnr: z.number().min(0).default(30),
      })
      .prefault({}),
    /** The sky map written beside the data (one DiscreteSkyMap tract on the field). */
    skymap: z
      .object({
        patchInner: z.number().int().positive().default(400),
        patchBorder: z.number().int().min(0).default(50),
      })
      .prefault({}),
    /** Output options. */
    output: z
      .object({
        /** Calexp compression: lossless GZIP_2 tiles or none. */
        compress: z.enum(['none', 'gzip2']).default('gzip2'),
      })
      .prefault({}),
  })
  .strict();

/** A validated configuration with every default filled in. */
export type SimConfig = z.infer<typeof SimConfig>;
/** What a caller may pass: any subset of the fields (defaults fill the rest). */
export type SimConfigInput = z.input<typeof SimConfig>;

/** Names of the presets. */
export type SimPresetName = 'tiny' | 'small' | 'medium' | 'lsst';

/**
 * Presets (overrides of the defaults):
 * - `tiny`: 4 visits x 2 CCDs of 256 x 256 (unit tests and fixtures/sim).
 * - `small`: 6 visits x 4 CCDs of 1024 x 1024.
 * - `medium`: 8 visits x 4 CCDs of 2048 x 2048 (benchmarks; about 134 Mpix), uncompressed.
 * - `lsst`: 6 visits x one raft (3 x 3) of LSST ITL-sized CCDs, 4072 x 4000, uncompressed.
 */
export const SIM_PRESETS: Readonly<Record<SimPresetName, SimConfigInput>> = Object.freeze({
  tiny: { name: 'tiny' },
  small: {
    name: 'small',
    detector: { width: 1024, height: 1024 },
    focalPlane: { nx: 2, ny: 2, gap: 60 },
    visits: { count: 6, ditherArcsec: 30 },
    skymap: { patchInner: 1000, patchBorder: 100 },
  },
  medium: {
    name: 'medium',
    detector: { width: 2048, height: 2048 },
    focalPlane: { nx: 2, ny: 2, gap: 80 },
    visits: { count: 8, ditherArcsec: 60 },
    skymap: { patchInner: 2000, patchBorder: 100 },
    // GZIP_2 doubles the run time (about 70 s instead of 35 s on 2 cores).
    output: { compress: 'none' },
  },
  lsst: {
    name: 'lsst',
    detector: { width: 4072, height: 4000 },
    focalPlane: { nx: 3, ny: 3, gap: 50 },
    visits: { count: 6, ditherArcsec: 300 },
    skymap: { patchInner: 4000, patchBorder: 100 },
    output: { compress: 'none' },
  },
});

/** Deep merge of plain objects (`b` wins); arrays and other values are replaced. */
function merge(a: unknown, b: unknown): unknown {
  if (
    a &&
    b &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = merge(out[k], v);
    return out;
  }
  return b === undefined ? a : b;
}

/**
 * Validates a configuration. `input` may name a preset (`{ preset: 'medium', seed: 7 }`):
 * the preset's values are taken first and the other fields override them.
 * Throws SIM_BAD_CONFIG listing each invalid field.
 */
export function resolveSimConfig(
  input: (SimConfigInput & { preset?: SimPresetName }) | undefined = {},
): SimConfig {
  const { preset, ...rest } = input;
  let merged: unknown = rest;
  if (preset !== undefined) {
    const base = SIM_PRESETS[preset];
    if (!base) {
      throw new SimError(
        'SIM_BAD_CONFIG',
        `unknown preset ${JSON.stringify(preset)}; choose one of ${Object.keys(SIM_PRESETS).join(', ')}`,
      );
    }
    merged = merge(base, rest);
  }
  const parsed = SimConfig.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new SimError('SIM_BAD_CONFIG', `invalid simulator configuration: ${issues.join('; ')}`);
  }
  const c = parsed.data;
  if (c.psf.fwhmMin > c.psf.fwhmMax || c.psf.betaMin > c.psf.betaMax) {
    throw new SimError('SIM_BAD_CONFIG', 'psf: fwhmMin must be <= fwhmMax and betaMin <= betaMax');
  }
  if (c.stars.snrMin > c.stars.snrMax || c.galaxies.snrMin > c.galaxies.snrMax) {
    throw new SimError('SIM_BAD_CONFIG', 'stars/galaxies: snrMin must be <= snrMax');
  }
  if (c.galaxies.sersicMin > c.galaxies.sersicMax) {
    throw new SimError('SIM_BAD_CONFIG', 'galaxies: sersicMin must be <= sersicMax');
  }
  return c;
}
