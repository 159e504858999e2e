/**
 * MakeDirectWarpTask: per (tract, patch, visit), every CCD of the visit that lands on the
 * patch, warped together onto the patch's outer box (drp_tasks' make_direct_warp, without
 * noise realizations or masked-fraction images).
 *
 * The CCDs are those whose pixel outline, mapped through the sky, lands on the patch box
 * (the test `gpu-coadd run` plans with, src/scheduler/plan.ts), in detector order; the warp
 * is src/scheduler/coadd-steps.ts `warpVisit`, so it equals the scheduler's warp of the
 * visit. The output `directWarp` carries the tract WCS, the visit's PSF on the patch grid
 * (coadd-steps `visitPsf`: the CCDs' kernel images resampled and averaged by covered
 * area; a Gaussian of the mean sigma when no CCD has a PSF model) and, in its metadata,
 * the visit, the CCD count, each CCD's PSF sigma and the PSF image's weight
 * (./warp-metadata.ts) for assembly. No CCD on the patch: NoWorkFound.
 */
import { z } from 'zod';
import type { SkyMap } from '../src/geom/skymap.ts';
import { Exposure } from '../src/image/exposure.ts';
import { GaussianPsf, kernelSizeForSigma, type Psf } from '../src/image/psf.ts';
import { sourceRegion } from '../src/ops/warp/region.ts';
import type { WarpSource } from '../src/ops/warp/spec.ts';
import {
  defineConnections,
  input,
  NoWorkFound,
  output,
  prerequisiteInput,
  type QuantumRefs,
} from '../src/pipe/index.ts';
import {
  coaddPsfSigma,
  coaddPsfTerms,
  type PsfImageInput,
  visitPsf,
  warpVisit,
} from '../src/scheduler/coadd-steps.ts';
import { CoaddTaskError } from './errors.ts';
import { BackendTask, type QuantumEnv, sortRefsBy } from './quantum-backend.ts';
import { patchGrid } from './sky-grid.ts';
import { setWarpFacts } from './warp-metadata.ts';

/** Config of {@link MakeDirectWarpTask}. */
export const MakeDirectWarpConfig = z.object({
  /** Warping kernel for image and variance (the mask is always bilinear). */
  warpingKernelName: z.enum(['lanczos3', 'lanczos4', 'lanczos5', 'bilinear']).default('lanczos3'),
});

/** Inputs of {@link MakeDirectWarpTask.run}. */
export type MakeDirectWarpInputs = {
  /** The visit's calexps (detector order when run through runQuantum). */
  readonly calexps: readonly Exposure[];
  readonly skyMap: SkyMap;
};

/** Outputs of {@link MakeDirectWarpTask.run}. */
export type MakeDirectWarpOutputs = {
  readonly directWarp: Exposure;
};

/** Warps one visit's CCDs onto one patch. */
export class MakeDirectWarpTask extends BackendTask<
  z.output<typeof MakeDirectWarpConfig>,
  MakeDirectWarpInputs,
  MakeDirectWarpOutputs
> {
  static _DefaultName = 'makeDirectWarp';
  static ConfigSchema = MakeDirectWarpConfig;
  static connections = defineConnections({
    dimensions: ['tract', 'patch', 'visit', 'skymap', 'instrument'],
    connections: {
      calexps: input({
        name: 'calexp',
        storageClass: 'ExposureF',
        dimensions: ['instrument', 'visit', 'detector'],
        multiple: true,
        doc: 'calibrated CCD exposures of the visit that overlap the patch',
      }),
      skyMap: prerequisiteInput({
        name: 'skyMap',
        storageClass: 'SkyMap',
        dimensions: ['skymap'],
        doc: 'the sky map whose tract WCS and patch boxes define the warp grid',
      }),
      directWarp: output({
        name: 'directWarp',
        storageClass: 'ExposureF',
        dimensions: ['tract', 'patch', 'visit', 'skymap', 'instrument'],
        doc: 'the visit warped onto the patch outer box, with its PSF facts in the metadata',
      }),
    },
  });

  protected override orderInputRefs(refs: QuantumRefs): QuantumRefs {
    return sortRefsBy(refs, 'calexps', 'detector');
  }

  async runWith(inputs: MakeDirectWarpInputs, env: QuantumEnv): Promise<MakeDirectWarpOutputs> {
    const grid = patchGrid(inputs.skyMap, env.dataId);
    const sources: WarpSource[] = [];
    const psfInputs: Array<PsfImageInput & { psfSigma: number | null }> = [];
    for (const e of inputs.calexps) {
      if (!e.wcs) {
        throw new CoaddTaskError(
          'TASK_BAD_INPUT',
          `a calexp of visit ${String(env.dataId.visit)} has no WCS; recalibrate it or leave it out`,
        );
      }
      if ('reason' in sourceRegion({ wcs: e.wcs, bbox: e.bbox }, grid)) continue;
      sources.push({ maskedImage: e.maskedImage, wcs: e.wcs });
      psfInputs.push({
        psfSigma: e.psf ? e.psf.sigma : null,
        psf: e.psf,
        wcs: e.wcs,
        bbox: e.bbox,
      });
    }
    if (sources.length === 0) {
      throw new NoWorkFound(
        `none of the ${inputs.calexps.length} calexp(s) of visit ${String(env.dataId.visit)} lands on tract ${String(env.dataId.tract)} patch ${String(env.dataId.patch)}`,
      );
    }
    const warp = await warpVisit(env.backend, sources, grid, this.config.warpingKernelName);
    const psfTerms = coaddPsfTerms(psfInputs, grid.wcs);
    const image = visitPsf(psfInputs, grid);
    let psf: Psf;
    if (image) psf = image.psf;
    else {
      const visitSigma = coaddPsfSigma(psfTerms);
      const size = kernelSizeForSigma(visitSigma);
      psf = new GaussianPsf(size, size, visitSigma);
    }
    const directWarp = new Exposure(warp, { wcs: grid.wcs, psf });
    setWarpFacts(directWarp.metadata, {
      visit: Number(env.dataId.visit),
      nCcd: sources.length,
      psfTerms,
      psfArea: image ? image.area : 0,
    });
    let covered = 0;
    for (const v of warp.image.data) if (!Number.isNaN(v)) covered++;
    this.metadata.set('nCcd', sources.length);
    this.metadata.set('nCcdGiven', inputs.calexps.length);
    this.metadata.set('coveredPixels', covered);
    return { directWarp };
  }
}
