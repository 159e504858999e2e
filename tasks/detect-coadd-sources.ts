/**
 * DetectCoaddSourcesTask: per (tract, patch, band), sources detected on the coadd
 * (src/scheduler/coadd-steps.ts `detectCoadd`: PSF-smoothed with the coadd PSF's Gaussian
 * sigma, threshold `thresholdValue` x the smoothed per-pixel noise, footprints grown by
 * 2.4 sigma). No background is subtracted (the detect op does not; the coadd inputs are
 * background-subtracted calexps).
 *
 * Outputs: `deepCoadd_calexp` (the coadd with EDGE and DETECTED set in its mask; what
 * `gpu-coadd run` writes as coadd.fits) and `deepCoadd_det`, the footprints with their
 * peaks as a StructuredDataDict (./footprint-codec.ts), which measurement reads as is, so
 * it measures exactly the footprints found here.
 */
import { z } from 'zod';
import type { StructuredData } from '../src/butler/datastore/formatters/index.ts';
import { Exposure } from '../src/image/exposure.ts';
import { MaskedImage } from '../src/image/masked-image.ts';
import { defineConnections, input, output } from '../src/pipe/index.ts';
import { detectCoadd } from '../src/scheduler/coadd-steps.ts';
import { coaddPsfSigmaOf } from './coadd-psf.ts';
import { encodeFootprints } from './footprint-codec.ts';
import { BackendTask, type QuantumEnv } from './quantum-backend.ts';

/** Config of {@link DetectCoaddSourcesTask}. */
export const DetectCoaddSourcesConfig = z.object({
  /** Threshold in units of the smoothed per-pixel noise (pixel_stdev). */
  thresholdValue: z.number().positive().default(5),
});

/** Inputs of {@link DetectCoaddSourcesTask.run}. */
export type DetectCoaddSourcesInputs = {
  readonly coadd: Exposure;
};

/** Outputs of {@link DetectCoaddSourcesTask.run}. */
export type DetectCoaddSourcesOutputs = {
  readonly calexp: Exposure;
  readonly detections: Record<string, StructuredData>;
};

/** Detects sources on one coadd. */
export class DetectCoaddSourcesTask extends BackendTask<
  z.output<typeof DetectCoaddSourcesConfig>,
  DetectCoaddSourcesInputs,
  DetectCoaddSourcesOutputs
> {
  static _DefaultName = 'detectCoaddSources';
  static ConfigSchema = DetectCoaddSourcesConfig;
  static connections = defineConnections({
    dimensions: ['tract', 'patch', 'band', 'skymap'],
    connections: {
      coadd: input({
        name: 'deepCoadd',
        storageClass: 'ExposureF',
        dimensions: ['tract', 'patch', 'band', 'skymap'],
        doc: 'the coadd to search',
      }),
      calexp: output({
        name: 'deepCoadd_calexp',
        storageClass: 'ExposureF',
        dimensions: ['tract', 'patch', 'band', 'skymap'],
        doc: 'the coadd with DETECTED (and EDGE) mask bits',
      }),
      detections: output({
        name: 'deepCoadd_det',
        storageClass: 'StructuredDataDict',
        dimensions: ['tract', 'patch', 'band', 'skymap'],
        doc: 'footprints (spans) and peaks, for measurement',
      }),
    },
  });

  async runWith(
    inputs: DetectCoaddSourcesInputs,
    env: QuantumEnv,
  ): Promise<DetectCoaddSourcesOutputs> {
    const { coadd } = inputs;
    const psfSigma = coaddPsfSigmaOf(coadd, 'the deepCoadd');
    const threshold = this.config.thresholdValue;
    const det = await detectCoadd(env.backend, coadd.maskedImage, psfSigma, threshold);
    const mi = new MaskedImage(coadd.image, det.mask, coadd.variance);
    const calexp = new Exposure(mi, coadd.info());
    const fp = det.footprints;
    this.metadata.set('nFootprints', fp?.count ?? 0);
    this.metadata.set('nPeaks', fp?.peakX.length ?? 0);
    this.metadata.set('psfSigma', psfSigma);
    const detections: Record<string, StructuredData> = fp
      ? encodeFootprints(fp, { psfSigma, thresholdValue: threshold })
      : { format: 'gpu_drp.FootprintSet/1', empty: true, psfSigma, thresholdValue: threshold };
    return { calexp, detections };
  }
}
