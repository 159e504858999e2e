/** The output of `measure`, assembled on the host from either backend's kernel output. */
import { FLAG, type MeasureInput, type PreparedMeasure, V } from './spec.ts';

/**
 * Measured sources, one per peak, struct-of-arrays in footprint order then peak order.
 * Pixel positions are parent coordinates (0-based, xy0 added); fluxes and peak values
 * are in image units; moments in pixels^2; (ra, dec) in degrees.
 */
export interface MeasureResult {
  readonly count: number;
  /** Aperture radii (pixels), ascending; apFlux[k] is for radii[k]. */
  readonly radii: Float64Array;
  /** 0-based source id (= index), parent footprint id, rank of the peak in it, peaks in it. */
  readonly id: Int32Array;
  readonly footprint: Int32Array;
  readonly peakRank: Int32Array;
  readonly footprintPeaks: Int32Array;
  /** Pixels of the parent footprint. */
  readonly footprintArea: Int32Array;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly xErr: Float64Array;
  readonly yErr: Float64Array;
  readonly peakX: Int32Array;
  readonly peakY: Int32Array;
  /** Image value at the peak pixel. */
  readonly peakValue: Float64Array;
  /** Smoothed S/N of the peak (from detect). */
  readonly significance: Float64Array;
  readonly ixx: Float64Array;
  readonly iyy: Float64Array;
  readonly ixy: Float64Array;
  readonly e1: Float64Array;
  readonly e2: Float64Array;
  readonly psfFlux: Float64Array;
  readonly psfFluxErr: Float64Array;
  readonly apFlux: readonly Float64Array[];
  readonly apFluxErr: readonly Float64Array[];
  /** Sky position of the centroid, degrees (null without a WCS). */
  readonly ra: Float64Array | null;
  readonly dec: Float64Array | null;
  /** FLAG bits (spec.ts). */
  readonly flags: Int32Array;
}

/** Columns from the kernels' value table (`vals`: count x nv) and flag words. */
export function measureResult(
  input: MeasureInput,
  p: PreparedMeasure,
  vals: ArrayLike<number>,
  kflags: ArrayLike<number>,
): MeasureResult {
  const n = p.count;
  const fp = input.footprints;
  const { x: ox, y: oy } = input.image.xy0;
  const f64 = () => new Float64Array(n);
  const i32 = () => new Int32Array(n);
  const r = {
    id: i32(),
    footprint: i32(),
    peakRank: i32(),
    footprintPeaks: i32(),
    footprintArea: i32(),
    x: f64(),
    y: f64(),
    xErr: f64(),
    yErr: f64(),
    peakX: i32(),
    peakY: i32(),
    peakValue: f64(),
    significance: f64(),
    ixx: f64(),
    iyy: f64(),
    ixy: f64(),
    e1: f64(),
    e2: f64(),
    psfFlux: f64(),
    psfFluxErr: f64(),
    flags: i32(),
  };
  const nap = p.radii.length;
  const apFlux = Array.from({ length: nap }, f64);
  const apFluxErr = Array.from({ length: nap }, f64);
  for (let f = 0; f < fp.count; f++) {
    const k0 = fp.peakStart[f] as number;
    const k1 = fp.peakStart[f + 1] as number;
    for (let k = k0; k < k1; k++) {
      const o = k * p.nv;
      const v = (j: number) => vals[o + j] as number;
      r.id[k] = k;
      r.footprint[k] = f;
      r.peakRank[k] = k - k0;
      r.footprintPeaks[k] = k1 - k0;
      r.footprintArea[k] = fp.area[f] as number;
      const px = fp.peakX[k] as number;
      const py = fp.peakY[k] as number;
      r.peakX[k] = px + ox;
      r.peakY[k] = py + oy;
      r.x[k] = px + ox + v(V.cx);
      r.y[k] = py + oy + v(V.cy);
      r.xErr[k] = v(V.cxErr);
      r.yErr[k] = v(V.cyErr);
      r.peakValue[k] = v(V.peakValue);
      r.significance[k] = fp.peakSignificance[k] as number;
      const ixx = v(V.ixx);
      const iyy = v(V.iyy);
      const ixy = v(V.ixy);
      r.ixx[k] = ixx;
      r.iyy[k] = iyy;
      r.ixy[k] = ixy;
      r.e1[k] = (ixx - iyy) / (ixx + iyy);
      r.e2[k] = (2 * ixy) / (ixx + iyy);
      r.psfFlux[k] = v(V.psfFlux);
      r.psfFluxErr[k] = v(V.psfFluxErr);
      for (let a = 0; a < nap; a++) {
        (apFlux[a] as Float64Array)[k] = v(V.ap0 + 2 * a);
        (apFluxErr[a] as Float64Array)[k] = v(V.ap0 + 2 * a + 1);
      }
      let fl = kflags[k] as number;
      if (k1 - k0 > 1) fl |= FLAG.blended;
      if (fp.peaksTruncated[f]) fl |= FLAG.peaksTruncated;
      r.flags[k] = fl;
    }
  }
  let ra: Float64Array | null = null;
  let dec: Float64Array | null = null;
  if (input.wcs) {
    const sky = input.wcs.pixelToSkyMany(r.x, r.y);
    ra = sky.ra;
    dec = sky.dec;
  }
  return { count: n, radii: p.radii, ...r, apFlux, apFluxErr, ra, dec };
}
