/**
 * DetectCoaddSourcesTask: per (tract, patch, band), sources detected on the coadd
 * (src/scheduler/coadd-steps.ts `detectCoadd`: smoothed with a Gaussian of the coadd
 * PSF's effective sigma, threshold `thresholdValue` x the smoothed noise, which with
 * `measureNoise` (default) is the variance plane's prediction scaled by the noise
 * measured on the smoothed coadd (warping correlates it), footprints grown by 2.4
 * sigma). No background is subtracted (the detect op does not; the coadd inputs are
 * background-subtracted calexps). The measured ratio goes to the task metadata
 * (`noiseRatio`) and to `deepCoadd_det`.
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
  /** Threshold in units of the smoothed noise. */
  thresholdValue: z.number().positive().default(5),
  /**
   * Measure the smoothed coadd's noise and scale the threshold by its ratio to the
   * variance plane's prediction (true, as `gpu-coadd run`); false: pixel_stdev alone.
   */
  measureNoise: z.boolean().default(true),
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
    const det = await detectCoadd(env.backend, coadd.maskedImage, psfSigma, threshold, {
      measureNoise: this.config.measureNoise,
    });
    const mi = new MaskedImage(coadd.image, det.mask, coadd.variance);
    const calexp = new Exposure(mi, coadd.info());
    const fp = det.footprints;
    this.metadata.set('nFootprints', fp?.count ?? 0);
    this.metadata.set('nPeaks', fp?.peakX.length ?? 0);
    this.metadata.set('psfSigma', psfSigma);
    const noiseRatio = det.noise ? det.noise.ratio : 1;
    this.metadata.set('noiseRatio', noiseRatio);
    const meta = { psfSigma, thresholdValue: threshold, noiseRatio };
    const detections: Record<string, StructuredData> = fp
      ? encodeFootprints(fp, meta)
      : { format: 'gpu_drp.FootprintSet/1', empty: true, ...meta };
    return { calexp, detections };
  }
}
