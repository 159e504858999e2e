/**
 * Test data for the datastore suites: dataset types and refs, an exposure with every
 * component, a catalog with every column kind, and the storage targets (local, S3,
 * WebDAV) the suites run against.
 */

import { randomUUID } from 'node:crypto';
import type { DataId, DatasetRef, DatasetType } from '../../../src/butler/refs.ts';
import { Catalog } from '../../../src/catalog/table.ts';
import { Header } from '../../../src/fits/header.ts';
import { Wcs } from '../../../src/geom/wcs.ts';
import { Exposure } from '../../../src/image/exposure.ts';
import { Mask, MaskPlaneDict } from '../../../src/image/mask.ts';
import { MaskedImage } from '../../../src/image/masked-image.ts';
import { PhotoCalib } from '../../../src/image/photo-calib.ts';
import { DoubleGaussianPsf } from '../../../src/image/psf.ts';

/** LSST-like dataset types. */
export const CALEXP: DatasetType = {
  name: 'calexp',
  dimensions: ['instrument', 'visit', 'detector'],
  storageClass: 'ExposureF',
};
export const DEEP_COADD: DatasetType = {
  name: 'deepCoadd',
  dimensions: ['skymap', 'tract', 'patch', 'band'],
  storageClass: 'ExposureF',
};
export const SOURCE_TABLE: DatasetType = {
  name: 'sourceTable_visit',
  dimensions: ['instrument', 'visit'],
  storageClass: 'ArrowAstropy',
};
export const SRC: DatasetType = {
  name: 'src',
  dimensions: ['instrument', 'visit', 'detector'],
  storageClass: 'SourceCatalog',
};
export const RAW: DatasetType = {
  name: 'raw',
  dimensions: ['instrument', 'exposure', 'detector'],
  storageClass: 'ExposureF',
};
export const CONFIG: DatasetType = { name: 'isr_config', dimensions: [], storageClass: 'Config' };
export const METADATA: DatasetType = {
  name: 'isr_metadata',
  dimensions: ['instrument', 'visit', 'detector'],
  storageClass: 'TaskMetadata',
};
export const SKYMAP: DatasetType = {
  name: 'skyMap',
  dimensions: ['skymap'],
  storageClass: 'SkyMap',
};
export const BLOB: DatasetType = {
  name: 'blob',
  dimensions: ['instrument', 'visit'],
  storageClass: 'SomethingUnknown',
};

/** A calexp-like data ID with the implied values a registry adds. */
export const VISIT_DATA_ID: DataId = {
  instrument: 'HSC',
  visit: 1228,
  detector: 42,
  band: 'i',
  physical_filter: 'HSC-I',
  day_obs: 20240101,
};

/** A ref with a fresh UUID. */
export function makeRef(
  datasetType: DatasetType,
  dataId: DataId,
  run = 'u/alice/run1',
): DatasetRef {
  return { id: randomUUID(), datasetType, dataId, run };
}

/** A TAN-SIP WCS (parent pixels). */
export function makeWcs(): Wcs {
  return Wcs.tanSip({
    crpix: [30.5, -12.25],
    crval: [150.1, 2.2],
    cd: [
      [-5.5e-5, 1.2e-6],
      [1.1e-6, 5.5e-5],
    ],
    sip: {
      a: { order: 2, coefficients: [[0, 0, 2e-7], [0, -3e-7], [4e-7]] },
      b: { order: 2, coefficients: [[0, 0, -1e-7], [0, 2e-7], [1e-7]] },
    },
  });
}

/**
 * A `width` x `height` exposure at xy0 (1000, 2000) with every component and a
 * recognizable pattern in every plane (NaN and +Inf included).
 */
export function makeExposure(width = 61, height = 47, seed = 1): Exposure {
  const planes = new MaskPlaneDict().withPlane('STREAK');
  const metadata = new Header();
  metadata.set('OBSERVER', 'sim', 'who');
  const base = Exposure.create(width, height, {
    xy0: { x: 1000, y: 2000 },
    wcs: makeWcs(),
    psf: new DoubleGaussianPsf(21, 21, 1.6, 3.5, 0.1),
    photoCalib: new PhotoCalib(0.57, 0.003),
    metadata,
  });
  const mi = base.maskedImage;
  const exp = base.withMaskedImage(
    new MaskedImage(mi.image, new Mask(mi.width, mi.height, { xy0: mi.xy0, planes }), mi.variance),
  );
  const n = width * height;
  for (let i = 0; i < n; i++) {
    exp.image.data[i] = Math.sin(i * 0.37 + seed) * 100 + i * 1e-3;
    exp.variance.data[i] = 10 + ((i + seed) % 17);
    exp.mask.data[i] =
      i % 5 === 0 ? planes.bitMask('STREAK') : i % 7 === 0 ? planes.bitMask('SAT', 'CR') : 0;
  }
  exp.image.data[5] = Number.NaN;
  exp.variance.data[6] = Number.POSITIVE_INFINITY;
  return exp;
}

/** A catalog with one column of every kind, units, descriptions and table metadata. */
export function makeCatalog(rows = 257): Catalog {
  const id = new BigInt64Array(rows);
  const x = new Float64Array(rows);
  const flux = new Float32Array(rows);
  const n = new Int32Array(rows);
  const flag = new Uint8Array(rows);
  const band: string[] = [];
  for (let i = 0; i < rows; i++) {
    id[i] = 9007199254740993n + BigInt(i);
    x[i] = i * 1.25 - 3.5;
    flux[i] = i === 3 ? Number.NaN : 1000 / (i + 1);
    n[i] = i * 7 - 100;
    flag[i] = i % 3 === 0 ? 1 : 0;
    band.push(i % 2 ? 'r' : 'é-band');
  }
  return new Catalog(
    [
      { name: 'id', kind: 'int64', unit: '', description: 'source id', data: id },
      { name: 'x', kind: 'float64', unit: 'pix', description: 'centroid x', data: x },
      { name: 'psfFlux', kind: 'float32', unit: 'nJy', description: 'PSF flux', data: flux },
      { name: 'npix', kind: 'int32', unit: 'pix', description: 'footprint area', data: n },
      { name: 'flag_edge', kind: 'bool', unit: '', description: 'on the edge', data: flag },
      { name: 'band', kind: 'string', unit: '', description: 'band', data: band },
    ],
    { pipeline_version: '0.1.0', TELESCOP: 'sim' },
  );
}

/** Where a datastore suite runs. */
export interface StorageTarget {
  readonly name: 'local' | 's3' | 'webdav';
  /** Root URL for one test file (unique), or null when the server is not configured. */
  readonly url: string | null;
  /** How to configure the server when it is missing. */
  readonly howTo: string;
}

/** The three storage targets; remote roots get a fresh prefix per test file. */
export function storageTargets(localRoot: string): StorageTarget[] {
  const unique = randomUUID();
  const s3 = process.env.GPU_DRP_TEST_S3_URL;
  const dav = process.env.GPU_DRP_TEST_WEBDAV_URL;
  return [
    { name: 'local', url: localRoot, howTo: '' },
    {
      name: 's3',
      url: s3 ? `${s3.replace(/\/+$/, '')}/${unique}` : null,
      howTo:
        'eval "$(bash scripts/services/s3.sh start /tmp/gpu-drp-s3)" (sets GPU_DRP_TEST_S3_URL and AWS_*)',
    },
    {
      name: 'webdav',
      url: dav ? `${dav.replace(/\/+$/, '')}/${unique}` : null,
      howTo:
        'eval "$(bash scripts/services/webdav.sh start /tmp/gpu-drp-dav)" (sets GPU_DRP_TEST_WEBDAV_URL and GPU_DRP_WEBDAV_*)',
    },
  ];
}
