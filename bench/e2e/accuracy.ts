/**
 * Accuracy against truth for the end-to-end benchmark, the same code for every tool:
 * truth sources of the simulator (truth/sources.csv) inside a common region of the grid
 * are matched one-to-one to a tool's detections (brightest truth first, nearest
 * unmatched detection within `radiusArcsec`); from the matches come completeness per
 * magnitude bin and for bright sources, the false-detection fraction, the median flux
 * ratio of stars (measured / true) with its robust scatter and the astrometric RMS.
 * Also the pixel comparison of two coadds of the same grid.
 *
 * Units: fluxes in nJy (the simulator's truth, gpu-coadd's catalogs and, with SWarp's
 * flux scale 1, Source Extractor's FLUX_AUTO on SWarp's nJy coadd); magnitudes AB
 * (31.4 - 2.5 log10(flux / nJy)); positions in degrees, 0-based grid pixels inside.
 */
import { readFileSync } from 'node:fs';
import type { BinTableHdu } from '../../src/fits/hdu.ts';
import { readFits } from '../../src/fits/reader.ts';
import type { Wcs } from '../../src/geom/wcs.ts';
import { E2eError } from './errors.ts';

/** The truth catalog (columns of truth/sources.csv). */
export interface Truth {
  readonly id: Int32Array;
  /** True for stars (point sources), false for galaxies. */
  readonly star: Uint8Array;
  readonly ra: Float64Array;
  readonly dec: Float64Array;
  /** Total flux, nJy. */
  readonly flux: Float64Array;
}

/** A detection catalog reduced to what the metrics use. */
export interface Detections {
  readonly ra: Float64Array;
  readonly dec: Float64Array;
  /** The tool's main flux estimate, nJy (gpu-coadd: PSF flux; Source Extractor: FLUX_AUTO). */
  readonly flux: Float64Array;
  /** Flux in a circular aperture of radius {@link APERTURE_RADIUS} pixels, nJy (both tools). */
  readonly apFlux: Float64Array;
}

/** Radius of the aperture flux compared between the tools, pixels (gpu-coadd's largest). */
export const APERTURE_RADIUS = 12;

/** AB magnitude of a flux in nJy. */
export function abMag(fluxNjy: number): number {
  return 31.4 - 2.5 * Math.log10(fluxNjy);
}

/** Reads the simulator's truth/sources.csv. */
export function readTruth(path: string): Truth {
  const lines = readFileSync(path, 'utf8').split('\n');
  const head = (lines[0] ?? '').split(',');
  const col = (name: string) => {
    const i = head.indexOf(name);
    if (i < 0) {
      throw new E2eError(
        'E2E_BAD_DATA',
        `${path} has no column ${name}; delete the data directory to simulate it again`,
      );
    }
    return i;
  };
  const [ci, ct, cr, cd, cf] = [
    col('id'),
    col('type'),
    col('ra_deg'),
    col('dec_deg'),
    col('flux_njy'),
  ];
  const rows = lines.slice(1).filter((l) => l.trim() !== '');
  const t: Truth = {
    id: new Int32Array(rows.length),
    star: new Uint8Array(rows.length),
    ra: new Float64Array(rows.length),
    dec: new Float64Array(rows.length),
    flux: new Float64Array(rows.length),
  };
  rows.forEach((l, i) => {
    const f = l.split(',');
    (t.id as Int32Array)[i] = Number(f[ci]);
    (t.star as Uint8Array)[i] = f[ct] === 'star' ? 1 : 0;
    (t.ra as Float64Array)[i] = Number(f[cr]);
    (t.dec as Float64Array)[i] = Number(f[cd]);
    (t.flux as Float64Array)[i] = Number(f[cf]);
  });
  return t;
}

/** Columns of the first binary table of a FITS file, by upper-case name. */
async function tableColumns(
  path: string,
): Promise<{ nrows: number; get: (n: string, element?: number) => Float64Array }> {
  let table: BinTableHdu | undefined;
  try {
    const f = await readFits(path);
    table = f.hdus.find((h): h is BinTableHdu => h.type === 'bintable');
  } catch (e) {
    throw new E2eError(
      'E2E_TOOL_FAILED',
      `cannot read the catalog ${path}: ${(e as Error).message}`,
    );
  }
  if (!table) throw new E2eError('E2E_TOOL_FAILED', `${path} has no binary table`);
  const t = table;
  return {
    nrows: t.nrows,
    get: (name, element = 0) => {
      const c = t.columns.find((k) => k.name.toUpperCase() === name.toUpperCase());
      if (!c) {
        throw new E2eError(
          'E2E_TOOL_FAILED',
          `catalog ${path} has no column ${name} (columns: ${t.columns.map((k) => k.name).join(', ')})`,
        );
      }
      if (element >= c.repeat) {
        throw new E2eError(
          'E2E_TOOL_FAILED',
          `catalog ${path} column ${name} has ${c.repeat} elements a row, not ${element + 1}`,
        );
      }
      const d = c.data as ArrayLike<number | bigint>;
      const out = new Float64Array(t.nrows);
      // Vector columns (FLUX_APER(4)) hold `repeat` values a row, row after row.
      for (let i = 0; i < t.nrows; i++) out[i] = Number(d[i * c.repeat + element]);
      return out;
    },
  };
}

/** gpu-coadd's sources.fits: ra, dec and the PSF flux (`psf_flux`, nJy). */
export async function readOurCatalog(path: string): Promise<Detections> {
  const t = await tableColumns(path);
  return {
    ra: t.get('ra'),
    dec: t.get('dec'),
    flux: t.get('psf_flux'),
    apFlux: t.get(`ap_flux_${APERTURE_RADIUS}`),
  };
}

/**
 * Source Extractor's FITS_1.0 catalog: ALPHA_J2000, DELTA_J2000, FLUX_AUTO and the
 * FLUX_APER element of diameter 2 x {@link APERTURE_RADIUS} (the 4th of
 * PHOT_APERTURES 6,12,18,24), in image units: nJy here.
 */
export async function readSextractorCatalog(path: string): Promise<Detections> {
  const t = await tableColumns(path);
  return {
    ra: t.get('ALPHA_J2000'),
    dec: t.get('DELTA_J2000'),
    flux: t.get('FLUX_AUTO'),
    apFlux: t.get('FLUX_APER', 3),
  };
}

/** The region where sources count: a per-pixel mask of the grid. */
export interface Region {
  readonly width: number;
  readonly height: number;
  /** 1 where the pixel counts (covered by every tool's coadd, away from the edges). */
  readonly inside: Uint8Array;
  readonly pixels: number;
}

/**
 * The common region: grid pixels at least `margin` pixels from the grid's edges where
 * every mask in `covered` is non-zero.
 */
export function commonRegion(
  width: number,
  height: number,
  margin: number,
  covered: readonly Uint8Array[],
): Region {
  const inside = new Uint8Array(width * height);
  let pixels = 0;
  for (let y = margin; y < height - margin; y++) {
    for (let x = margin; x < width - margin; x++) {
      const p = y * width + x;
      if (covered.every((c) => c[p] !== 0)) {
        inside[p] = 1;
        pixels++;
      }
    }
  }
  return { width, height, inside, pixels };
}

/** Options of {@link scoreCatalog}. */
export interface ScoreOptions {
  /** Match radius, arcsec. */
  readonly radiusArcsec: number;
  /** Truth fluxes at or above this count as bright (nJy). */
  readonly brightFlux: number;
  /** Lower edges of the magnitude bins, with the last upper edge appended (ascending). */
  readonly magEdges: readonly number[];
}

/** Accuracy figures of one tool. */
export interface Score {
  /** Detections inside the region. */
  readonly detections: number;
  /** Truth sources inside the region (any flux). */
  readonly truth: number;
  readonly brightTruth: number;
  /** Fraction of bright truth sources matched. */
  readonly brightCompleteness: number;
  /** Per magnitude bin: truth sources and how many were matched. */
  readonly bins: ReadonlyArray<{ magLo: number; magHi: number; truth: number; matched: number }>;
  /** Detections inside the region with no truth source (any flux) within the radius, as a fraction. */
  readonly falseFraction: number;
  /** Bright stars matched (the flux and astrometry sample). */
  readonly brightStarsMatched: number;
  /** Median of measured / true flux over matched bright stars. */
  readonly fluxRatioMedian: number;
  /** 1.4826 x median absolute deviation of that ratio. */
  readonly fluxRatioScatter: number;
  /** The same two for the aperture flux of radius {@link APERTURE_RADIUS} pixels. */
  readonly apFluxRatioMedian: number;
  readonly apFluxRatioScatter: number;
  /** RMS of the position offsets of matched bright stars, arcsec. */
  readonly astrometricRmsArcsec: number;
  /** Median of the same offsets, arcsec. */
  readonly astrometricMedianArcsec: number;
}

/** A uniform-grid index of points in grid pixels, for radius queries. */
class PointIndex {
  private readonly cells = new Map<number, number[]>();
  constructor(
    readonly x: Float64Array,
    readonly y: Float64Array,
    private readonly cell: number,
  ) {
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) continue;
      const k = this.key(Math.floor(x[i]! / cell), Math.floor(y[i]! / cell));
      const list = this.cells.get(k);
      if (list) list.push(i);
      else this.cells.set(k, [i]);
    }
  }
  private key(cx: number, cy: number): number {
    return (cx + 50_000) * 100_000 + (cy + 50_000);
  }
  /** Indices of the points within `r` of (px, py) for which `keep` holds, nearest first. */
  near(px: number, py: number, r: number, keep: (i: number) => boolean): number[] {
    const cx = Math.floor(px / this.cell);
    const cy = Math.floor(py / this.cell);
    const n = Math.ceil(r / this.cell);
    const found: Array<[number, number]> = [];
    for (let dy = -n; dy <= n; dy++) {
      for (let dx = -n; dx <= n; dx++) {
        for (const i of this.cells.get(this.key(cx + dx, cy + dy)) ?? []) {
          const d2 = (this.x[i]! - px) ** 2 + (this.y[i]! - py) ** 2;
          if (d2 <= r * r && keep(i)) found.push([d2, i]);
        }
      }
    }
    return found.sort((a, b) => a[0] - b[0]).map((f) => f[1]);
  }
}

function medianOf(a: readonly number[]): number {
  const s = [...a].sort((p, q) => p - q);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** Position of (ra, dec) in `region` by `wcs`: the pixel index, or -1 outside. */
function regionPixel(region: Region, x: number, y: number): number {
  const ix = Math.round(x);
  const iy = Math.round(y);
  if (!(ix >= 0 && iy >= 0 && ix < region.width && iy < region.height)) return -1;
  const p = iy * region.width + ix;
  return region.inside[p] ? p : -1;
}

/**
 * Scores `det` against `truth` inside `region` of the grid with WCS `wcs` (see the
 * module comment for the definitions).
 */
export function scoreCatalog(
  truth: Truth,
  det: Detections,
  wcs: Wcs,
  region: Region,
  o: ScoreOptions,
): Score {
  const scale = wcs.pixelScale();
  const r = o.radiusArcsec / scale;
  const tp = wcs.skyToPixelMany(truth.ra, truth.dec);
  const dp = wcs.skyToPixelMany(det.ra, det.dec);
  const detIndex = new PointIndex(dp.x, dp.y, Math.max(1, r));
  const truthIndex = new PointIndex(tp.x, tp.y, Math.max(1, r));
  const detInside = new Uint8Array(det.ra.length);
  let detections = 0;
  for (let i = 0; i < det.ra.length; i++) {
    if (regionPixel(region, dp.x[i]!, dp.y[i]!) >= 0) {
      detInside[i] = 1;
      detections++;
    }
  }
  // One-to-one matching, brightest truth first.
  const order = Array.from(truth.flux.keys())
    .filter((i) => regionPixel(region, tp.x[i]!, tp.y[i]!) >= 0)
    .sort((a, b) => truth.flux[b]! - truth.flux[a]!);
  const taken = new Uint8Array(det.ra.length);
  const matchOf = new Int32Array(truth.flux.length).fill(-1);
  for (const t of order) {
    const cand = detIndex.near(tp.x[t]!, tp.y[t]!, r, (i) => taken[i] === 0);
    const d = cand[0];
    if (d !== undefined) {
      taken[d] = 1;
      matchOf[t] = d;
    }
  }
  const bins = o.magEdges.slice(0, -1).map((lo, k) => ({
    magLo: lo,
    magHi: o.magEdges[k + 1]!,
    truth: 0,
    matched: 0,
  }));
  let bright = 0;
  let brightMatched = 0;
  const ratios: number[] = [];
  const apRatios: number[] = [];
  const offsets: number[] = [];
  for (const t of order) {
    const mag = abMag(truth.flux[t]!);
    const bin = bins.find((b) => mag >= b.magLo && mag < b.magHi);
    const d = matchOf[t]!;
    if (bin) {
      bin.truth++;
      if (d >= 0) bin.matched++;
    }
    if (truth.flux[t]! >= o.brightFlux) {
      bright++;
      if (d >= 0) {
        brightMatched++;
        if (truth.star[t]) {
          ratios.push(det.flux[d]! / truth.flux[t]!);
          apRatios.push(det.apFlux[d]! / truth.flux[t]!);
          const cosd = Math.cos((truth.dec[t]! * Math.PI) / 180);
          let dra = det.ra[d]! - truth.ra[t]!;
          if (dra > 180) dra -= 360;
          if (dra < -180) dra += 360;
          offsets.push(Math.hypot(dra * cosd, det.dec[d]! - truth.dec[t]!) * 3600);
        }
      }
    }
  }
  let falseCount = 0;
  for (let i = 0; i < det.ra.length; i++) {
    if (!detInside[i]) continue;
    if (truthIndex.near(dp.x[i]!, dp.y[i]!, r, () => true).length === 0) falseCount++;
  }
  const med = medianOf(ratios);
  const apMed = medianOf(apRatios);
  return {
    detections,
    truth: order.length,
    brightTruth: bright,
    brightCompleteness: bright > 0 ? brightMatched / bright : Number.NaN,
    bins,
    falseFraction: detections > 0 ? falseCount / detections : Number.NaN,
    brightStarsMatched: ratios.length,
    fluxRatioMedian: med,
    fluxRatioScatter: 1.4826 * medianOf(ratios.map((v) => Math.abs(v - med))),
    apFluxRatioMedian: apMed,
    apFluxRatioScatter: 1.4826 * medianOf(apRatios.map((v) => Math.abs(v - apMed))),
    astrometricRmsArcsec:
      offsets.length > 0
        ? Math.sqrt(offsets.reduce((s, v) => s + v * v, 0) / offsets.length)
        : Number.NaN,
    astrometricMedianArcsec: medianOf(offsets),
  };
}

/** Pixel comparison of two coadds of the same grid. */
export interface CoaddDiff {
  /** Pixels compared (finite in both, positive weight in both, inside the region). */
  readonly pixels: number;
  /** Median |a - b| / sigma, sigma = sqrt(variance of a). */
  readonly medianAbsOverNoise: number;
  /** Median (a - b) / sigma (a bias between the two). */
  readonly medianOverNoise: number;
  /** 95th percentile of |a - b| / sigma. */
  readonly p95AbsOverNoise: number;
}

/**
 * Compares coadd `a` (with its variance) and coadd `b` on the pixels of `region` where
 * both are finite: the differences in units of a's per-pixel noise.
 */
export function compareCoadds(
  a: Float32Array,
  aVariance: Float32Array,
  b: Float32Array,
  region: Region,
): CoaddDiff {
  const all = new Float32Array(region.pixels);
  let n = 0;
  for (let p = 0; p < region.inside.length; p++) {
    if (!region.inside[p]) continue;
    const va = a[p]!;
    const vb = b[p]!;
    const s = Math.sqrt(aVariance[p]!);
    if (!Number.isFinite(va) || !Number.isFinite(vb) || !(s > 0) || !Number.isFinite(s)) continue;
    all[n++] = (va - vb) / s;
  }
  const d = all.subarray(0, n);
  const abs = Float32Array.from(d, Math.abs).sort();
  const signed = Float32Array.from(d).sort();
  const mid = (v: Float32Array) =>
    v.length === 0
      ? Number.NaN
      : v.length % 2
        ? v[(v.length - 1) / 2]!
        : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  return {
    pixels: n,
    medianAbsOverNoise: mid(abs),
    medianOverNoise: mid(signed),
    p95AbsOverNoise: n > 0 ? abs[Math.floor(0.95 * (n - 1))]! : Number.NaN,
  };
}

/** Magnitude bin edges: 0.5 mag from the brightest truth source to `faintFlux` (nJy). */
export function magEdges(truth: Truth, faintFlux: number): number[] {
  let brightest = Number.POSITIVE_INFINITY;
  for (const f of truth.flux) if (f > 0) brightest = Math.min(brightest, abMag(f));
  const lo = Math.floor(brightest * 2) / 2;
  const hi = Math.ceil(abMag(faintFlux) * 2) / 2;
  const edges: number[] = [];
  for (let m = lo; m <= hi + 1e-9; m += 0.5) edges.push(Number(m.toFixed(1)));
  return edges;
}
