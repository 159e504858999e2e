/**
 * Rendering one simulated calexp: sources (pixel-integrated PSF for stars, PSF-convolved
 * mixture-of-Gaussians for galaxies), streaks, hot columns, sky, Poisson and read noise,
 * cosmic rays, saturation; then background subtraction and calibration to nJy.
 *
 * Model (electrons, per pixel): lambda = sky(x, y) + sources + streak + hot column.
 * Observed n = Poisson(lambda) + N(0, readNoise^2) + unflagged cosmic rays, clipped at
 * the saturation level (flagged SAT). Calexp image = (n - sky(x, y)) * nJyPerElectron;
 * variance = (max(n, 0) + readNoise^2) * nJyPerElectron^2, computed from the data as
 * LSST's ISR does. Flagged cosmic rays are marked CR | INTRP and, being ideally
 * repaired, leave no trace in the pixels.
 */

import { Header } from '../fits/header.ts';
import { unitVector } from '../geom/sphere-point.ts';
import { Exposure } from '../image/exposure.ts';
import { ImageF } from '../image/image.ts';
import { Mask } from '../image/mask.ts';
import { MaskedImage } from '../image/masked-image.ts';
import { PhotoCalib } from '../image/photo-calib.ts';
import { allocFloat32, allocInt32 } from '../image/pixel-buffer.ts';
import { ImagePsf } from '../image/psf.ts';
import type { CcdPlan, SimPlan } from './plan.ts';
import { SOURCE_TYPE } from './plan.ts';
import { moffatMog, type PsfProfile, renderPsfStamp, sersicMog } from './profiles.ts';
import { STREAM, Xoshiro128 } from './random.ts';

/** Largest galaxy stamp half-size, pixels. */
const MAX_GALAXY_RADIUS = 120;

/** The PSF kernel (pixel-integrated, centred on a pixel centre) of a visit, as an ImagePsf. */
export function psfModel(psf: PsfProfile, radius: number): ImagePsf {
  const n = 2 * radius + 1;
  const stamp = new Float64Array(n * n);
  renderPsfStamp(psf, 0, 0, radius, stamp, new Float64Array(2 * n));
  return new ImagePsf({ width: n, height: n, data: stamp });
}

/** Half-size (pixels) beyond which a star of `flux` electrons is below `threshold` e-/px. */
function starRadius(psf: PsfProfile, flux: number, threshold: number, maxRadius: number): number {
  let r: number;
  if (psf.model === 'gaussian') {
    const peak = flux / (2 * Math.PI * psf.sigma ** 2);
    r = peak > threshold ? psf.sigma * Math.sqrt(2 * Math.log(peak / threshold)) : 0;
  } else {
    const peak = (flux * (psf.beta - 1)) / (Math.PI * psf.alpha ** 2);
    r = peak > threshold ? psf.alpha * Math.sqrt((peak / threshold) ** (1 / psf.beta) - 1) : 0;
  }
  return Math.min(maxRadius, Math.max(3, Math.ceil(r + 1)));
}

/**
 * Renders visit `visitIndex`, detector `detector` of `plan` as a calexp: image in nJy,
 * variance in nJy^2, mask with BAD, SAT, CR, INTRP; WCS, PSF (ImagePsf of the
 * pixel-integrated PSF), PhotoCalib 1 (nJy per unit), visit info and metadata.
 */
export function renderCalexp(plan: SimPlan, visitIndex: number, detector: number): Exposure {
  const ccd = plan.ccd(visitIndex, detector);
  const c = plan.config;
  const { width: W, height: H } = c.detector;
  const model = new Float64Array(W * H);
  addSources(plan, ccd, model);
  if (ccd.visit.streak) addStreak(ccd, model);
  const hot = c.badColumns.hotSnr * plan.skySigmaElectrons;
  for (const bc of ccd.badColumns) for (let y = bc.y0; y <= bc.y1; y++) model[y * W + bc.x]! += hot;

  const planes = new Mask(W, H).planes;
  const bits = {
    bad: planes.bitMask('BAD'),
    sat: planes.bitMask('SAT'),
    cr: planes.bitMask('CR', 'INTRP'),
  };
  const mask = allocInt32(W * H);
  const extra = new Float64Array(W * H);
  for (const cr of ccd.cosmicRays) {
    for (const [x, y, e] of cr.pixels) {
      if (cr.flagged) mask[y * W + x]! |= bits.cr;
      else extra[y * W + x]! += e;
    }
  }
  for (const bc of ccd.badColumns)
    for (let y = bc.y0; y <= bc.y1; y++) mask[y * W + bc.x]! |= bits.bad;

  const rng = new Xoshiro128([c.seed, STREAM.noise, ccd.visit.index, detector]);
  const ph = c.photometry;
  const satE = ph.saturation * ph.gain;
  const rn = ph.readNoise;
  const rn2 = rn * rn;
  const k = plan.nJyPerElectron;
  const k2 = k * k;
  const sky0 = plan.skyElectrons;
  const [gx, gy] = ccd.visit.skyGradient;
  const image = allocFloat32(W * H);
  const variance = allocFloat32(W * H);
  for (let y = 0; y < H; y++) {
    const skyRow = sky0 * (1 + gy * (y / (H - 1) - 0.5));
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const sky = skyRow + sky0 * gx * (x / (W - 1) - 0.5);
      let n = rng.poisson(sky + model[i]!) + rn * rng.normal() + extra[i]!;
      if (n >= satE) {
        n = satE;
        mask[i]! |= bits.sat;
      }
      image[i] = (n - sky) * k;
      variance[i] = (Math.max(n, 0) + rn2) * k2;
    }
  }

  const mi = new MaskedImage(
    new ImageF(W, H, { data: image }),
    new Mask(W, H, { data: mask, planes }),
    new ImageF(W, H, { data: variance }),
  );
  const metadata = new Header();
  metadata.set('BUNIT', 'nJy', 'image unit (variance: nJy^2)');
  metadata.set('GAIN', ph.gain, '[e-/ADU]');
  metadata.set('RDNOISE', rn, '[e-] read noise');
  metadata.set('SATURATE', ph.saturation, '[ADU] saturation level of the raw pixel');
  metadata.set('SKYLEVEL', sky0, '[e-/pixel] subtracted sky at the CCD centre');
  metadata.set('NJYPERE', k, '[nJy/e-] calibration applied to the pixels');
  metadata.set('SEEING', ccd.visit.fwhmArcsec, '[arcsec] PSF FWHM');
  metadata.set('SIMPSF', ccd.visit.psf.model, 'simulated PSF profile');
  if (ccd.visit.psf.model === 'moffat') metadata.set('SIMBETA', ccd.visit.psf.beta, 'Moffat beta');
  metadata.set('SIMSEED', c.seed, 'simulator seed');
  metadata.set('SIMNAME', c.name, 'simulated dataset');
  return new Exposure(mi, {
    wcs: ccd.wcs,
    psf: psfModel(ccd.visit.psf, ccd.visit.psfRadius),
    photoCalib: new PhotoCalib(1, 0),
    visitInfo: {
      visit: ccd.visit.visit,
      detector,
      band: c.band,
      physicalFilter: c.physicalFilter,
      exposureTime: c.visits.exposureTime,
      mjd: ccd.visit.mjd,
      instrument: c.instrument,
      boresightRa: ccd.visit.boresight.ra,
      boresightDec: ccd.visit.boresight.dec,
      rotationAngle: ccd.visit.rotation,
    },
    metadata,
  });
}

/** Adds stars and galaxies (electrons) to `model`. */
function addSources(plan: SimPlan, ccd: CcdPlan, model: Float64Array): void {
  const c = plan.config;
  const { width: W, height: H } = c.detector;
  const t = plan.truth;
  const wcs = ccd.wcs;
  const centre = wcs.pixelToSky((W - 1) / 2, (H - 1) / 2);
  const margin = Math.max(ccd.visit.psfRadius, MAX_GALAXY_RADIUS);
  const reach = ((Math.hypot(W, H) / 2 + margin) * c.pixelScale * 1.05) / 3600;
  const cosReach = Math.cos((reach * Math.PI) / 180);
  const [cx, cy, cz] = unitVector(centre.ra, centre.dec);
  const threshold = 0.01 * plan.skySigmaElectrons;
  const psf = ccd.visit.psf;
  const maxR = ccd.visit.psfRadius;
  const stampLen = (2 * MAX_GALAXY_RADIUS + 1) ** 2;
  const stamp = new Float64Array(stampLen);
  const scratch = new Float64Array(4 * MAX_GALAXY_RADIUS + 2);
  const psfMog =
    psf.model === 'gaussian'
      ? [{ weight: 1, variance: psf.sigma * psf.sigma }]
      : moffatMog(psf.beta).map((m) => ({
          weight: m.weight,
          variance: m.variance * psf.alpha ** 2,
        }));
  const d2r = Math.PI / 180;
  for (let s = 0; s < t.size; s++) {
    const ra = t.ra[s]! * d2r;
    const dec = t.dec[s]! * d2r;
    const cd = Math.cos(dec);
    if (cd * Math.cos(ra) * cx + cd * Math.sin(ra) * cy + Math.sin(dec) * cz < cosReach) continue;
    const p = wcs.skyToPixel(t.ra[s]!, t.dec[s]!);
    const flux = t.flux[s]! / plan.nJyPerElectron;
    if (t.type[s] === SOURCE_TYPE.star) {
      const r = starRadius(psf, flux, threshold, maxR);
      const px = Math.round(p.x);
      const py = Math.round(p.y);
      if (px + r < 0 || py + r < 0 || px - r >= W || py - r >= H) continue;
      renderPsfStamp(psf, p.x, p.y, r, stamp, scratch);
      addStamp(model, W, H, stamp, px, py, r, flux);
    } else {
      addGalaxy(plan, ccd, s, p.x, p.y, flux, psfMog, threshold, model, stamp);
    }
  }
}

/** Adds `flux` x a (2r+1)^2 stamp centred at pixel (px, py), clipped to the CCD. */
function addStamp(
  model: Float64Array,
  W: number,
  H: number,
  stamp: Float64Array,
  px: number,
  py: number,
  r: number,
  flux: number,
): void {
  const n = 2 * r + 1;
  const x0 = Math.max(0, px - r);
  const x1 = Math.min(W - 1, px + r);
  const y0 = Math.max(0, py - r);
  const y1 = Math.min(H - 1, py + r);
  for (let y = y0; y <= y1; y++) {
    const srow = (y - py + r) * n - px + r;
    const mrow = y * W;
    for (let x = x0; x <= x1; x++) model[mrow + x]! += flux * stamp[srow + x]!;
  }
}

/**
 * A galaxy: each Sersic mixture component (an elliptical Gaussian on the sky) mapped to
 * pixels through the local WCS Jacobian and convolved with each PSF mixture component
 * (covariances add), plus 1/12 pixel^2 for pixel integration; evaluated at pixel centres
 * and normalized so the stamp holds exactly `flux` electrons.
 */
function addGalaxy(
  plan: SimPlan,
  ccd: CcdPlan,
  s: number,
  x: number,
  y: number,
  flux: number,
  psfMog: ReadonlyArray<{ weight: number; variance: number }>,
  threshold: number,
  model: Float64Array,
  stamp: Float64Array,
): void {
  const { width: W, height: H } = plan.config.detector;
  const t = plan.truth;
  const rHalf = t.rHalf[s]!; // arcsec
  const q = 1 - t.ellipticity[s]!;
  const pa = (t.pa[s]! * Math.PI) / 180;
  // Sky covariance per unit variance in (east, north) arcsec: major axis along PA.
  const ae = Math.sin(pa);
  const an = Math.cos(pa);
  const s11 = ae * ae + q * q * an * an;
  const s12 = ae * an - q * q * an * ae;
  const s22 = an * an + q * q * ae * ae;
  // Pixel <- sky: inverse of the Jacobian (arcsec per pixel).
  const J = ccd.wcs.jacobian(x, y);
  const j11 = J[0][0] * 3600;
  const j12 = J[0][1] * 3600;
  const j21 = J[1][0] * 3600;
  const j22 = J[1][1] * 3600;
  const det = j11 * j22 - j12 * j21;
  const i11 = j22 / det;
  const i12 = -j12 / det;
  const i21 = -j21 / det;
  const i22 = j11 / det;
  // C_pix = Jinv S Jinv^T for the unit-variance sky covariance S.
  const m11 = i11 * s11 + i12 * s12;
  const m12 = i11 * s12 + i12 * s22;
  const m21 = i21 * s11 + i22 * s12;
  const m22 = i21 * s12 + i22 * s22;
  const u11 = m11 * i11 + m12 * i12;
  const u12 = m11 * i21 + m12 * i22;
  const u22 = m21 * i21 + m22 * i22;
  const galMog = sersicMog(t.sersicN[s]!);
  const r2 = rHalf * rHalf;
  interface Comp {
    w: number;
    a: number;
    b: number;
    c: number;
    /** Half-sizes of the box holding the component above the threshold, pixels. */
    hx: number;
    hy: number;
  }
  const comps: Comp[] = [];
  let rx = 2;
  let ry = 2;
  for (const g of galMog) {
    for (const p of psfMog) {
      const w = g.weight * p.weight;
      const a = g.variance * r2 * u11 + p.variance + 1 / 12;
      const b = g.variance * r2 * u12;
      const cc = g.variance * r2 * u22 + p.variance + 1 / 12;
      const peak = (w * flux) / (2 * Math.PI * Math.sqrt(a * cc - b * b));
      const ksig =
        peak > threshold
          ? Math.min(6, Math.max(2.5, Math.sqrt(2 * Math.log(peak / threshold))))
          : 2.5;
      const hx = Math.ceil(ksig * Math.sqrt(a));
      const hy = Math.ceil(ksig * Math.sqrt(cc));
      rx = Math.max(rx, hx);
      ry = Math.max(ry, hy);
      comps.push({ w, a, b, c: cc, hx, hy });
    }
  }
  const r = Math.min(MAX_GALAXY_RADIUS, Math.max(rx, ry));
  const px = Math.round(x);
  const py = Math.round(y);
  if (px + r < 0 || py + r < 0 || px - r >= W || py - r >= H) return;
  const n = 2 * r + 1;
  stamp.fill(0, 0, n * n);
  for (const { w, a, b, c, hx, hy } of comps) {
    const d = a * c - b * b;
    const norm = w / (2 * Math.PI * Math.sqrt(d));
    const ia = c / d;
    const ib = -b / d;
    const ic = a / d;
    const ry2 = Math.min(r, hy);
    const rx2 = Math.min(r, hx);
    for (let j = -ry2; j <= ry2; j++) {
      const dy = py + j - y;
      const row = (j + r) * n + r;
      for (let i = -rx2; i <= rx2; i++) {
        const dx = px + i - x;
        const q2 = ia * dx * dx + 2 * ib * dx * dy + ic * dy * dy;
        stamp[row + i]! += norm * Math.exp(-0.5 * q2);
      }
    }
  }
  let sum = 0;
  for (let k = 0; k < n * n; k++) sum += stamp[k]!;
  if (sum > 0) addStamp(model, W, H, stamp, px, py, r, flux / sum);
}

/** Adds the visit's streak: a line through the CCD with a Gaussian cross-profile. */
function addStreak(ccd: CcdPlan, model: Float64Array): void {
  const streak = ccd.visit.streak!;
  const { width: W, height: H } = ccd.bbox;
  const a = ccd.wcs.skyToPixel(streak.start.ra, streak.start.dec);
  const b = ccd.wcs.skyToPixel(streak.end.ra, streak.end.dec);
  if (![a.x, a.y, b.x, b.y].every(Number.isFinite)) return;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = Math.hypot(dx, dy);
  const nx = -dy / len;
  const ny = dx / len;
  const reach = Math.ceil(5 * streak.sigma);
  const inv2s2 = 1 / (2 * streak.sigma * streak.sigma);
  const peak = streak.peakElectrons;
  // Scan along the axis the line crosses most slowly, a band of +-reach around it.
  if (Math.abs(dx) >= Math.abs(dy)) {
    for (let x = 0; x < W; x++) {
      const yc = a.y + ((x - a.x) * dy) / dx;
      const band = Math.ceil(reach * (len / Math.abs(dx)));
      for (
        let y = Math.max(0, Math.floor(yc) - band);
        y <= Math.min(H - 1, Math.ceil(yc) + band);
        y++
      ) {
        const d = (x - a.x) * nx + (y - a.y) * ny;
        model[y * W + x]! += peak * Math.exp(-d * d * inv2s2);
      }
    }
  } else {
    for (let y = 0; y < H; y++) {
      const xc = a.x + ((y - a.y) * dx) / dy;
      const band = Math.ceil(reach * (len / Math.abs(dy)));
      for (
        let x = Math.max(0, Math.floor(xc) - band);
        x <= Math.min(W - 1, Math.ceil(xc) + band);
        x++
      ) {
        const d = (x - a.x) * nx + (y - a.y) * ny;
        model[y * W + x]! += peak * Math.exp(-d * d * inv2s2);
      }
    }
  }
}
