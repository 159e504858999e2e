/**
 * MeasureCoaddSourcesTask: per (tract, patch, band), every peak of `deepCoadd_det`
 * measured on `deepCoadd_calexp` (src/scheduler/coadd-steps.ts `measureCoadd`: centroids,
 * adaptive moments, PSF fluxes with the coadd's PSF model as template and aperture
 * fluxes, in nJy with errors, flags, and (ra, dec) from
 * the sky map's tract WCS) into `deepCoadd_meas`, a SourceCatalog (Parquet through the
 * datastore) with the columns of `gpu-coadd run`'s sources.parquet. No footprints: an
 * empty quantum (NoWorkFound), as `gpu-coadd run` then writes no catalog.
 */
import { z } from 'zod';
import type { Catalog } from '../src/catalog/table.ts';
import type { SkyMap } from '../src/geom/skymap.ts';
import type { Exposure } from '../src/image/exposure.ts';
import {
  defineConnections,
  input,
  NoWorkFound,
  output,
  prerequisiteInput,
} from '../src/pipe/index.ts';
import { measureCoadd } from '../src/scheduler/coadd-steps.ts';
import { coaddPsfOf } from './coadd-psf.ts';
import { decodeFootprints } from './footprint-codec.ts';
import { BackendTask, type QuantumEnv } from './quantum-backend.ts';
import { patchGrid } from './sky-grid.ts';

/** Config of {@link MeasureCoaddSourcesTask} (the measurement uses the op's defaults). */
export const MeasureCoaddSourcesConfig = z.object({});

/** Inputs of {@link MeasureCoaddSourcesTask.run}. */
export type MeasureCoaddSourcesInputs = {
  readonly calexp: Exposure;
  readonly detections: unknown;
  readonly skyMap: SkyMap;
};

/** Outputs of {@link MeasureCoaddSourcesTask.run}. */
export type MeasureCoaddSourcesOutputs = {
  readonly catalog: Catalog;
};

/** Measures the detected sources of one coadd. */
export class MeasureCoaddSourcesTask extends BackendTask<
  z.output<typeof MeasureCoaddSourcesConfig>,
  MeasureCoaddSourcesInputs,
  MeasureCoaddSourcesOutputs
> {
  static _DefaultName = 'measureCoaddSources';
  static ConfigSchema = MeasureCoaddSourcesConfig;
  static connections = defineConnections({
    dimensions: ['tract', 'patch', 'band', 'skymap'],
    connections: {
      calexp: input({
        name: 'deepCoadd_calexp',
        storageClass: 'ExposureF',
        dimensions: ['tract', 'patch', 'band', 'skymap'],
        doc: 'the coadd with its detection mask',
      }),
      detections: input({
        name: 'deepCoadd_det',
        storageClass: 'StructuredDataDict',
        dimensions: ['tract', 'patch', 'band', 'skymap'],
        doc: 'footprints and peaks from detectCoaddSources',
      }),
      skyMap: prerequisiteInput({
        name: 'skyMap',
        storageClass: 'SkyMap',
        dimensions: ['skymap'],
        doc: 'the sky map (tract WCS for ra, dec)',
      }),
      catalog: output({
        name: 'deepCoadd_meas',
        storageClass: 'SourceCatalog',
        dimensions: ['tract', 'patch', 'band', 'skymap'],
        doc: 'one row per peak: centroid, shape, fluxes (nJy), flags, ra, dec',
      }),
    },
  });

  async runWith(
    inputs: MeasureCoaddSourcesInputs,
    env: QuantumEnv,
  ): Promise<MeasureCoaddSourcesOutputs> {
    const doc = inputs.detections as { empty?: unknown } | null;
    if (doc && doc.empty === true)
      throw new NoWorkFound('no footprints were detected on the coadd');
    const footprints = decodeFootprints(inputs.detections);
    const grid = patchGrid(inputs.skyMap, env.dataId);
    const psf = coaddPsfOf(inputs.calexp, 'the deepCoadd_calexp');
    const m = await measureCoadd(env.backend, inputs.calexp.maskedImage, footprints, psf, grid.wcs);
    const catalog = m.catalog as Catalog;
    this.metadata.set('nSources', catalog.length);
    return { catalog };
  }
}
