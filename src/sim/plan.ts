/**
 * The simulation plan: everything about a simulated dataset except its pixels -- the
 * truth catalog, visits (pointing, rotation, PSF, sky), CCD geometry and WCS, and the
 * artifacts (cosmic rays, bad columns, streaks). It is a pure function of the
 * configuration, so workers rebuild it instead of receiving it.
 */

import { Box2I } from '../geom/box.ts';
import { offsetPoint, type SpherePoint } from '../geom/sphere-point.ts';
import { Wcs } from '../geom/wcs.ts';
import type { SimConfig } from './config.ts';
import { moffatAlpha, type PsfProfile } from './profiles.ts';
import { STREAM, Xoshiro128 } from './random.ts';

/** AB magnitude of 1 nJy. */
const AB_NJY = 31.4;

/** Source types of the truth catalog. */
export const SOURCE_TYPE = { star: 0, galaxy: 1 } as const;

/**
 * The truth catalog, column-oriented. Row i is source `id[i]`. Shapes are zero for stars.
 * Positions are ICRS degrees; fluxes nJy (as rendered: the whole truncated profile).
 */
export interface TruthCatalog {
  readonly size: number;
  readonly id: Int32Array;
  /** {@link SOURCE_TYPE}: 0 star, 1 galaxy. */
  readonly type: Uint8Array;
  readonly ra: Float64Array;
  readonly dec: Float64Array;
  /** Flux, nJy. */
  readonly flux: Float64Array;
  /** Sersic index (galaxies). */
  readonly sersicN: Float64Array;
  /** Semi-major-axis half-light radius, arcsec (galaxies). */
  readonly rHalf: Float64Array;
  /** Ellipticity 1 - b/a (galaxies). */
  readonly ellipticity: Float64Array;
  /** Position angle of the major axis, degrees north through east (galaxies). */
  readonly pa: Float64Array;
}

/** A satellite streak: a great-circle segment with a Gaussian cross-profile. */
export interface StreakPlan {
  /** Start and end points, degrees. */
  readonly start: SpherePoint;
  readonly end: SpherePoint;
  /** Peak surface brightness on the streak's centre line, electrons per pixel. */
  readonly peakElectrons: number;
  /** Gaussian sigma of the cross-profile, pixels (the PSF's). */
  readonly sigma: number;
}

/** One visit. */
export interface VisitPlan {
  /** 0-based index in the sequence. */
  readonly index: number;
  /** Visit id. */
  readonly visit: number;
  /** MJD (TAI) of mid-exposure, days. */
  readonly mjd: number;
  /** Boresight, degrees. */
  readonly boresight: SpherePoint;
  /** Rotation angle (ROTPA), degrees. */
  readonly rotation: number;
  /** PSF FWHM, arcsec. */
  readonly fwhmArcsec: number;
  /** The PSF in pixels (nominal scale). */
  readonly psf: PsfProfile;
  /** Half-size of the PSF kernel (and of bright-star stamps), pixels. */
  readonly psfRadius: number;
  /** Sky gradient: fractional sky change across a CCD along x and along y. */
  readonly skyGradient: readonly [number, number];
  /** The streak of this visit, if any. */
  readonly streak: StreakPlan | null;
  /** True when this visit carries unflagged cosmic rays. */
  readonly unflaggedCosmicRays: boolean;
}

/** One detector's place in the focal plane. */
export interface DetectorPlan {
  readonly detector: number;
  /** Column and row in the focal-plane grid. */
  readonly ix: number;
  readonly iy: number;
  /** Boresight position in this CCD's 0-based pixel coordinates (the WCS's crpix). */
  readonly crpix: readonly [number, number];
}

/** A cosmic-ray hit: pixels with their deposited electrons. */
export interface CosmicRay {
  /** [x, y, electrons] per pixel, 0-based CCD pixels. */
  readonly pixels: ReadonlyArray<readonly [number, number, number]>;
  /** True when flagged CR (+INTRP) and repaired; false when left in the data, unflagged. */
  readonly flagged: boolean;
}

/** A bad (hot) column segment x, rows y0..y1 inclusive. */
export interface BadColumn {
  readonly x: number;
  readonly y0: number;
  readonly y1: number;
}

/** Everything needed to render one CCD of one visit. */
export interface CcdPlan {
  readonly visit: VisitPlan;
  readonly detector: DetectorPlan;
  readonly wcs: Wcs;
  readonly bbox: Box2I;
  readonly cosmicRays: readonly CosmicRay[];
  readonly badColumns: readonly BadColumn[];
}

/** The whole plan. */
export interface SimPlan {
  readonly config: SimConfig;
  /** nJy per electron (the calibration applied to make calexps in nJy). */
  readonly nJyPerElectron: number;
  /** Mean sky level, electrons per pixel. */
  readonly skyElectrons: number;
  /** Per-pixel noise of blank sky, electrons rms (sky Poisson + read noise). */
  readonly skySigmaElectrons: number;
  /** Radius of the region holding truth sources, degrees. */
  readonly fieldRadius: number;
  readonly truth: TruthCatalog;
  readonly visits: readonly VisitPlan[];
  readonly detectors: readonly DetectorPlan[];
  /** The CCD of visit index `v`, detector `d` (computed on demand). */
  ccd(visitIndex: number, detector: number): CcdPlan;
}

/**
 * Flux (electrons) of a source with signal-to-noise `snr` measured optimally with a
 * Gaussian PSF-like profile of sigma `sigma` pixels on a background of variance `v`
 * electrons^2 per pixel: F^2 = snr^2 (F + 4 pi sigma^2 v).
 */
export function fluxForSnr(snr: number, sigma: number, v: number): number {
  const s2 = snr * snr;
  return (s2 + Math.sqrt(s2 * s2 + 16 * Math.PI * sigma * sigma * v * s2)) / 2;
}

/** Builds the plan of a validated configuration (deterministic). */
export function planSimulation(config: SimConfig): SimPlan {
  const c = config;
  const ph = c.photometry;
  const exptime = c.visits.exposureTime;
  const nJyPerElectron = 10 ** (0.4 * (AB_NJY - ph.zeroPoint)) / exptime;
  const skyElectrons = 10 ** (-0.4 * (ph.skyMag - ph.zeroPoint)) * exptime * c.pixelScale ** 2;
  const skyVar = skyElectrons + ph.readNoise ** 2;
  const skySigmaElectrons = Math.sqrt(skyVar);
  const { width: W, height: H } = c.detector;
  const { nx, ny, gap } = c.focalPlane;
  const halfDiagPx = Math.hypot((nx * (W + gap)) / 2, (ny * (H + gap)) / 2);
  const fieldRadius = ((halfDiagPx + 50) * c.pixelScale + c.visits.ditherArcsec) / 3600;

  const detectors: DetectorPlan[] = [];
  for (let iy = 0; iy < ny; iy++) {
    for (let ix = 0; ix < nx; ix++) {
      const cx = (ix - (nx - 1) / 2) * (W + gap);
      const cy = (iy - (ny - 1) / 2) * (H + gap);
      detectors.push({
        detector: iy * nx + ix,
        ix,
        iy,
        crpix: [(W - 1) / 2 - cx, (H - 1) / 2 - cy],
      });
    }
  }

  const visits: VisitPlan[] = [];
  const fpHalf = ((Math.min(nx * W, ny * H) / 2) * c.pixelScale) / 3600;
  for (let i = 0; i < c.visits.count; i++) {
    const rng = new Xoshiro128([c.seed, STREAM.visit, i]);
    const r = c.visits.ditherArcsec * Math.sqrt(rng.uniform());
    const theta = 360 * rng.uniform();
    const boresight = offsetPoint(c.field.ra, c.field.dec, theta, r / 3600);
    const rotation = rng.range(c.visits.rotationMin, c.visits.rotationMax);
    const fwhmArcsec = rng.range(c.psf.fwhmMin, c.psf.fwhmMax);
    const beta = rng.range(c.psf.betaMin, c.psf.betaMax);
    const fwhmPx = fwhmArcsec / c.pixelScale;
    const moffat = c.psf.model === 'moffat' || (c.psf.model === 'mixed' && i % 2 === 0);
    const psf: PsfProfile = moffat
      ? { model: 'moffat', alpha: moffatAlpha(fwhmPx, beta), beta }
      : { model: 'gaussian', sigma: fwhmPx / (2 * Math.sqrt(2 * Math.LN2)) };
    const psfRadius = Math.min(30, Math.max(8, Math.ceil(4 * fwhmPx)));
    const gdir = 2 * Math.PI * rng.uniform();
    const g = ph.skyGradient;
    const skyGradient: [number, number] = [g * Math.cos(gdir), g * Math.sin(gdir)];
    let streak: StreakPlan | null = null;
    const srng = new Xoshiro128([c.seed, STREAM.streak, i]);
    if (c.streaks.every > 0 && i % c.streaks.every === c.streaks.every - 1) {
      const anchor = offsetPoint(
        boresight.ra,
        boresight.dec,
        360 * srng.uniform(),
        0.3 * fpHalf * Math.sqrt(srng.uniform()),
      );
      const pa = 180 * srng.uniform();
      const len = 2 * fieldRadius;
      streak = {
        start: offsetPoint(anchor.ra, anchor.dec, pa, len),
        end: offsetPoint(anchor.ra, anchor.dec, pa + 180, len),
        peakElectrons: c.streaks.peakSnr * skySigmaElectrons,
        sigma: fwhmPx / (2 * Math.sqrt(2 * Math.LN2)),
      };
    }
    const ue = c.cosmicRays.unflaggedEvery;
    visits.push({
      index: i,
      visit: c.visits.first + i,
      mjd: c.visits.mjdStart + i * c.visits.cadenceDays + exptime / 2 / 86400,
      boresight,
      rotation,
      fwhmArcsec,
      psf,
      psfRadius,
      skyGradient,
      streak,
      unflaggedCosmicRays: ue > 0 && i % ue === ue - 1,
    });
  }

  const k = c.distortion / 1e9;
  const ccdWcs = (visit: VisitPlan, det: DetectorPlan): Wcs => {
    const linear = Wcs.fromScaleRotation({
      crpix: det.crpix,
      crval: [visit.boresight.ra, visit.boresight.dec],
      scale: c.pixelScale,
      rotation: visit.rotation,
    });
    return k > 0
      ? Wcs.tanSip({
          crpix: det.crpix,
          crval: linear.crval,
          cd: linear.cd,
          sip: {
            a: { order: 3, coefficients: [[0], [0, 0, k], [0], [k]] },
            b: { order: 3, coefficients: [[0, 0, 0, k], [0], [0, k]] },
          },
        })
      : linear;
  };
  // Bright stars in the central half of each CCD of the first visit.
  const bright: SpherePoint[] = [];
  const brng = new Xoshiro128([c.seed, STREAM.catalog, 1]);
  for (const det of detectors) {
    const wcs = ccdWcs(visits[0]!, det);
    for (let i = 0; i < c.stars.brightPerCcd; i++) {
      bright.push(wcs.pixelToSky(W * brng.range(0.25, 0.75), H * brng.range(0.25, 0.75)));
    }
  }
  const truth = makeTruth(c, fieldRadius, nJyPerElectron, skyVar, bright);

  const ccd = (visitIndex: number, detector: number): CcdPlan => {
    const visit = visits[visitIndex];
    const det = detectors[detector];
    if (!visit || !det)
      throw new RangeError(`no CCD (visit index ${visitIndex}, detector ${detector})`);
    return {
      visit,
      detector: det,
      wcs: ccdWcs(visit, det),
      bbox: new Box2I(0, 0, W, H),
      cosmicRays: makeCosmicRays(c, visit, detector),
      badColumns: makeBadColumns(c, detector),
    };
  };

  return {
    config: c,
    nJyPerElectron,
    skyElectrons,
    skySigmaElectrons,
    fieldRadius,
    truth,
    visits,
    detectors,
    ccd,
  };
}

/** A value from a truncated power law N(>s) ~ s^-slope on [a, b] (log-uniform for slope 0). */
function powerLaw(rng: Xoshiro128, a: number, b: number, slope: number): number {
  const u = rng.uniform();
  if (slope === 0 || a === b) return a * (b / a) ** u;
  const pa = a ** -slope;
  const pb = b ** -slope;
  return (pa - u * (pa - pb)) ** (-1 / slope);
}

function makeTruth(
  c: SimConfig,
  fieldRadius: number,
  nJyPerElectron: number,
  skyVar: number,
  bright: readonly SpherePoint[],
): TruthCatalog {
  const rng = new Xoshiro128([c.seed, STREAM.catalog]);
  const sideArcmin = 2 * fieldRadius * 60;
  const areaArcmin2 = sideArcmin * sideArcmin;
  const nStars = rng.poisson(c.stars.density * areaArcmin2);
  const nGals = rng.poisson(c.galaxies.density * areaArcmin2);
  const n = nStars + nGals + bright.length;
  const t: TruthCatalog = {
    size: n,
    id: new Int32Array(n),
    type: new Uint8Array(n),
    ra: new Float64Array(n),
    dec: new Float64Array(n),
    flux: new Float64Array(n),
    sersicN: new Float64Array(n),
    rHalf: new Float64Array(n),
    ellipticity: new Float64Array(n),
    pa: new Float64Array(n),
  };
  // Uniform on the tangent plane of the field centre (1 "pixel" = 1 arcsec).
  const tangent = Wcs.fromScaleRotation({
    crpix: [0, 0],
    crval: [c.field.ra, c.field.dec],
    scale: 1,
  });
  const half = fieldRadius * 3600;
  const refSigma =
    (c.psf.fwhmMin + c.psf.fwhmMax) / 2 / c.pixelScale / (2 * Math.sqrt(2 * Math.LN2));
  for (let i = 0; i < n; i++) {
    const star = i < nStars || i >= nStars + nGals;
    if (i >= nStars + nGals) {
      const p = bright[i - nStars - nGals]!;
      t.id[i] = i + 1;
      t.type[i] = SOURCE_TYPE.star;
      t.ra[i] = p.ra;
      t.dec[i] = p.dec;
      t.flux[i] = fluxForSnr(c.stars.snrMax, refSigma, skyVar) * nJyPerElectron;
      continue;
    }
    const p = tangent.pixelToSky(rng.range(-half, half), rng.range(-half, half));
    t.id[i] = i + 1;
    t.type[i] = star ? SOURCE_TYPE.star : SOURCE_TYPE.galaxy;
    t.ra[i] = p.ra;
    t.dec[i] = p.dec;
    if (star) {
      const snr = powerLaw(rng, c.stars.snrMin, c.stars.snrMax, c.stars.slope);
      t.flux[i] = fluxForSnr(snr, refSigma, skyVar) * nJyPerElectron;
      continue;
    }
    const g = c.galaxies;
    const snr = powerLaw(rng, g.snrMin, g.snrMax, g.slope);
    // Sersic index on a 0.1 grid so that the mixture-of-Gaussians fits are shared.
    const nIndex = Math.round(10 * rng.range(g.sersicMin, g.sersicMax)) / 10;
    const rHalf = Math.min(
      g.rHalfMax,
      Math.max(0.15, g.rHalfMedian * Math.exp(0.4 * rng.normal())),
    );
    const e = g.ellipticityMax * rng.uniform();
    const pa = 180 * rng.uniform();
    const rPix = rHalf / c.pixelScale;
    const sigmaEff = Math.sqrt(refSigma * refSigma + ((rPix * Math.sqrt(1 - e)) / 1.1774) ** 2);
    t.flux[i] = fluxForSnr(snr, sigmaEff, skyVar) * nJyPerElectron;
    t.sersicN[i] = nIndex;
    t.rHalf[i] = rHalf;
    t.ellipticity[i] = e;
    t.pa[i] = pa;
  }
  return t;
}

function makeCosmicRays(c: SimConfig, visit: VisitPlan, detector: number): CosmicRay[] {
  const rng = new Xoshiro128([c.seed, STREAM.cosmicRays, visit.index, detector]);
  const { width: W, height: H } = c.detector;
  const count = rng.poisson((c.cosmicRays.perMegapixel * W * H) / 1e6);
  const unflagged = visit.unflaggedCosmicRays ? c.cosmicRays.unflaggedPerCcd : 0;
  const out: CosmicRay[] = [];
  for (let i = 0; i < count + unflagged; i++) {
    let x = rng.int(W);
    let y = rng.int(H);
    const length = 1 + rng.int(4);
    const peak = 300 * (5000 / 300) ** rng.uniform();
    const pixels: Array<readonly [number, number, number]> = [];
    for (let k = 0; k < length; k++) {
      if (x >= 0 && x < W && y >= 0 && y < H && !pixels.some(([px, py]) => px === x && py === y)) {
        pixels.push([x, y, peak * (k === 0 ? 1 : 0.3 + 0.7 * rng.uniform())]);
      }
      x += rng.int(3) - 1;
      y += rng.int(3) - 1;
    }
    out.push({ pixels, flagged: i < count });
  }
  return out;
}

function makeBadColumns(c: SimConfig, detector: number): BadColumn[] {
  const rng = new Xoshiro128([c.seed, STREAM.badColumns, detector]);
  const { width: W, height: H } = c.detector;
  const out: BadColumn[] = [];
  for (let i = 0; i < c.badColumns.perCcd; i++) {
    const x = 2 + rng.int(W - 4);
    const y0 = rng.int(Math.floor(H / 2));
    out.push({ x, y0, y1: H - 1 });
  }
  return out;
}
