/**
 * AssembleCoaddTask: per (tract, patch, band), the visits' direct warps stacked into the
 * coadd (drp_tasks' assemble_coadd: MEANCLIP, 3 sigma, 2 passes, one weight per warp
 * = 1 / mean variance of its good pixels), through src/scheduler/coadd-steps.ts
 * `stackWarps`, warps in visit order, as `gpu-coadd run` stacks them.
 *
 * Outputs: `deepCoadd` (ExposureF: image, mask with CLIPPED/REJECTED, variance, the tract
 * WCS, and the coadd PSF: the warps' PSF images averaged with weights stack weight x
 * covered area, src/scheduler/coadd-steps.ts `coaddPsf`, as `gpu-coadd run` models it;
 * a Gaussian whose sigma is the mean of every CCD's sigma in patch pixels, summed in
 * visit then detector order, when no warp has a PSF image) and `deepCoadd_coverage`, the
 * number of inputs kept per
 * pixel: storage class Bytes holding a FITS file with one int32 image HDU `COVERAGE`
 * (what `gpu-coadd run` writes as coverage.fits; the datastore has no integer-image
 * storage class, and an ExposureF would triple the size for a count).
 */
import { z } from 'zod';
import { fitsToBytes } from '../src/fits/writer.ts';
import type { SkyMap } from '../src/geom/skymap.ts';
import type { Exposure } from '../src/image/exposure.ts';
import { ImagePsf } from '../src/image/psf.ts';
import { defineConnections, input, output, prerequisiteInput } from '../src/pipe/index.ts';
import {
  coaddExposure,
  coaddPsf,
  coaddPsfSigma,
  psfGaussianSigma,
  stackWarps,
  type VisitPsf,
} from '../src/scheduler/coadd-steps.ts';
import { CoaddTaskError } from './errors.ts';
import { BackendTask, type QuantumEnv } from './quantum-backend.ts';
import { patchGrid } from './sky-grid.ts';
import { getWarpFacts } from './warp-metadata.ts';

/** Config of {@link AssembleCoaddTask}. */
export const AssembleCoaddConfig = z.object({
  statistic: z.enum(['MEANCLIP', 'MEAN', 'MEDIAN']).default('MEANCLIP'),
  /** MEANCLIP clipping width, standard deviations. */
  numSigmaClip: z.number().positive().default(3),
  /** MEANCLIP passes. */
  numIter: z.number().int().min(1).max(10).default(2),
});

/** Inputs of {@link AssembleCoaddTask.run}. */
export type AssembleCoaddInputs = {
  readonly directWarps: readonly Exposure[];
  readonly skyMap: SkyMap;
};

/** Outputs of {@link AssembleCoaddTask.run}. */
export type AssembleCoaddOutputs = {
  readonly coadd: Exposure;
  /** FITS bytes: int32 image HDU COVERAGE (inputs kept per pixel). */
  readonly coverage: Uint8Array;
};

/** The FITS bytes of a coverage map (int32, `width x height`, HDU COVERAGE). */
export function coverageFits(coverage: Int32Array, width: number, height: number): Uint8Array {
  return fitsToBytes([{ data: coverage, shape: [width, height], name: 'COVERAGE' }]);
}

/** Stacks one patch's direct warps of one band. */
export class AssembleCoaddTask extends BackendTask<
  z.output<typeof AssembleCoaddConfig>,
  AssembleCoaddInputs,
  AssembleCoaddOutputs
> {
  static _DefaultName = 'assembleCoadd';
  static ConfigSchema = AssembleCoaddConfig;
  static connections = defineConnections({
    dimensions: ['tract', 'patch', 'band', 'skymap'],
    connections: {
      directWarps: input({
        name: 'directWarp',
        storageClass: 'ExposureF',
        dimensions: ['tract', 'patch', 'visit', 'skymap', 'instrument'],
        multiple: true,
        doc: 'the visits warped onto the patch',
      }),
      skyMap: prerequisiteInput({
        name: 'skyMap',
        storageClass: 'SkyMap',
        dimensions: ['skymap'],
        doc: 'the sky map (tract WCS of the coadd)',
      }),
      coadd: output({
        name: 'deepCoadd',
        storageClass: 'ExposureF',
        dimensions: ['tract', 'patch', 'band', 'skymap'],
        doc: 'the coadd: image, mask, variance, WCS and PSF',
      }),
      coverage: output({
        name: 'deepCoadd_coverage',
        storageClass: 'Bytes',
        dimensions: ['tract', 'patch', 'band', 'skymap'],
        doc: 'FITS file: inputs kept per pixel (int32 HDU COVERAGE)',
      }),
    },
  });

  async runWith(inputs: AssembleCoaddInputs, env: QuantumEnv): Promise<AssembleCoaddOutputs> {
    const grid = patchGrid(inputs.skyMap, env.dataId);
    // Visit order fixes the float32 summation order (the scheduler stacks visits in order).
    const warps = inputs.directWarps
      .map((w, i) => ({ w, facts: getWarpFacts(w.metadata, `direct warp ${i}`) }))
      .sort((a, b) => a.facts.visit - b.facts.visit);
    const r = await stackWarps(
      env.backend,
      warps.map((x) => x.w.maskedImage),
      this.config.statistic,
      { numSigmaClip: this.config.numSigmaClip, numIter: this.config.numIter },
    );
    const visits = warps.map(({ w, facts }): VisitPsf | null => {
      if (!(facts.psfArea > 0)) return null;
      if (!(w.psf instanceof ImagePsf)) {
        throw new CoaddTaskError(
          'TASK_BAD_INPUT',
          `the direct warp of visit ${facts.visit} declares a PSF image (WARPPSFA) but carries no IMAGE PSF; rerun makeDirectWarp`,
        );
      }
      return { psf: w.psf, area: facts.psfArea };
    });
    const psf = coaddPsf(visits, r.weights, coaddPsfSigma(warps.flatMap((x) => x.facts.psfTerms)));
    const psfSigma = psfGaussianSigma(psf);
    let covered = 0;
    for (const c of r.coverage) if (c > 0) covered++;
    this.metadata.set('nWarps', warps.length);
    this.metadata.set(
      'visits',
      warps.map((x) => x.facts.visit),
    );
    this.metadata.set(
      'nCcd',
      warps.reduce((a, x) => a + x.facts.nCcd, 0),
    );
    this.metadata.set('psfSigma', psfSigma);
    this.metadata.set('coveredPixels', covered);
    return {
      coadd: coaddExposure(r.coadd, grid.wcs, psf),
      coverage: coverageFits(r.coverage, grid.bbox.width, grid.bbox.height),
    };
  }
}
