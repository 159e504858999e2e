/** A `measure` result as a source catalog (src/catalog) with units and descriptions. */
import { Catalog, type CatalogColumn } from '../../catalog/table.ts';
import type { MeasureResult } from './result.ts';
import { FLAG } from './spec.ts';

const FLAG_COLUMNS: ReadonlyArray<readonly [string, number, string]> = [
  ['flag_edge', FLAG.edge, 'stamp or largest aperture leaves the image or holds EDGE/NO_DATA'],
  ['flag_saturated', FLAG.saturated, 'SAT pixels within 4 PSF sigma of the peak'],
  ['flag_interpolated', FLAG.interpolated, 'INTRP pixels within 4 PSF sigma of the peak'],
  ['flag_nan_aperture', FLAG.nanAperture, 'unusable (NaN/BAD/NO_DATA) pixels inside an aperture'],
  ['flag_centroid', FLAG.centroid, 'centroid failed; x, y are the peak pixel'],
  ['flag_shape', FLAG.shape, 'adaptive moments failed; shape columns are NaN'],
  ['flag_psf_flux', FLAG.psfFlux, 'PSF flux failed (no usable pixel)'],
  ['flag_blended', FLAG.blended, 'the parent footprint has more than one peak'],
  ['flag_peaks_truncated', FLAG.peaksTruncated, 'the parent footprint had more peaks than kept'],
];

function radiusName(r: number): string {
  return String(r).replace('.', 'p');
}

/**
 * The catalog of `m`: one row per source. `fluxUnit` names the image units (e.g. 'nJy'
 * for LSST coadds; '' when unknown); positions are 0-based parent pixels.
 */
export function sourceCatalog(
  m: MeasureResult,
  options: { fluxUnit?: string; metadata?: Readonly<Record<string, string>> } = {},
): Catalog {
  const fu = options.fluxUnit ?? '';
  const f64 = (name: string, data: Float64Array, unit: string, description: string) =>
    ({ name, kind: 'float64', unit, description, data }) as const;
  const i32 = (name: string, data: Int32Array, unit: string, description: string) =>
    ({ name, kind: 'int32', unit, description, data }) as const;
  const cols: CatalogColumn[] = [
    {
      name: 'id',
      kind: 'int64',
      unit: '',
      description: 'source id (0-based, footprint order then peak order)',
      data: BigInt64Array.from(m.id, (v) => BigInt(v)),
    },
    i32('parent', m.footprint, '', 'id of the detection footprint (0-based)'),
    i32('peak_rank', m.peakRank, '', 'rank of this peak in its footprint (0 = brightest)'),
    i32('n_peaks', m.footprintPeaks, '', 'peaks in the parent footprint'),
    i32('footprint_area', m.footprintArea, 'pix', 'pixels in the parent footprint (grown)'),
    f64('x', m.x, 'pix', 'centroid x, 0-based parent pixel (Gaussian-weighted)'),
    f64('y', m.y, 'pix', 'centroid y, 0-based parent pixel (Gaussian-weighted)'),
    f64('x_err', m.xErr, 'pix', '1-sigma error of x'),
    f64('y_err', m.yErr, 'pix', '1-sigma error of y'),
  ];
  if (m.ra && m.dec) {
    cols.push(f64('ra', m.ra, 'deg', 'right ascension of the centroid (WCS)'));
    cols.push(f64('dec', m.dec, 'deg', 'declination of the centroid (WCS)'));
  }
  cols.push(
    i32('peak_x', m.peakX, 'pix', 'peak pixel x (0-based parent)'),
    i32('peak_y', m.peakY, 'pix', 'peak pixel y (0-based parent)'),
    f64('peak_value', m.peakValue, fu, 'image value at the peak pixel'),
    f64('significance', m.significance, '', 'S/N of the peak in the PSF-smoothed image'),
    f64('ixx', m.ixx, 'pix2', 'adaptive second moment xx'),
    f64('iyy', m.iyy, 'pix2', 'adaptive second moment yy'),
    f64('ixy', m.ixy, 'pix2', 'adaptive second moment xy'),
    f64('e1', m.e1, '', 'ellipticity (ixx - iyy) / (ixx + iyy)'),
    f64('e2', m.e2, '', 'ellipticity 2 ixy / (ixx + iyy)'),
    f64('psf_flux', m.psfFlux, fu, 'PSF flux (least-squares fit of the PSF model)'),
    f64('psf_flux_err', m.psfFluxErr, fu, '1-sigma error of psf_flux'),
  );
  m.radii.forEach((r, k) => {
    const n = radiusName(r);
    cols.push(
      f64(
        `ap_flux_${n}`,
        m.apFlux[k] as Float64Array,
        fu,
        `flux in a circular aperture of radius ${r} pix`,
      ),
    );
    cols.push(
      f64(`ap_flux_${n}_err`, m.apFluxErr[k] as Float64Array, fu, `1-sigma error of ap_flux_${n}`),
    );
  });
  for (const [name, bit, description] of FLAG_COLUMNS) {
    cols.push({
      name,
      kind: 'bool',
      unit: '',
      description,
      data: Uint8Array.from(m.flags, (f) => ((f & bit) !== 0 ? 1 : 0)),
    });
  }
  return new Catalog(cols, options.metadata ?? {});
}
