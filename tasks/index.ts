/**
 * The coadd PipelineTasks (adapters over src/scheduler/coadd-steps.ts), registered under
 * `gpu_drp.tasks.<Name>` when this module loads. Pipelines may also name them by module
 * path, e.g. `tasks/make-direct-warp.ts#MakeDirectWarpTask` (tasks/pipelines/coadd.yaml).
 */
import { registerTask } from '../src/pipe/index.ts';
import { AssembleCoaddTask } from './assemble-coadd.ts';
import { DetectCoaddSourcesTask } from './detect-coadd-sources.ts';
import { MakeDirectWarpTask } from './make-direct-warp.ts';
import { MeasureCoaddSourcesTask } from './measure-coadd-sources.ts';

export { AssembleCoaddTask, coverageFits } from './assemble-coadd.ts';
export { coaddPsfOf, coaddPsfSigmaOf } from './coadd-psf.ts';
export { DetectCoaddSourcesTask } from './detect-coadd-sources.ts';
export { CoaddTaskError, type CoaddTaskErrorCode } from './errors.ts';
export { decodeFootprints, encodeFootprints, FOOTPRINT_FORMAT } from './footprint-codec.ts';
export { MakeDirectWarpTask } from './make-direct-warp.ts';
export { MeasureCoaddSourcesTask } from './measure-coadd-sources.ts';
export {
  type BackendQuantumContext,
  BackendTask,
  describeBackend,
  type QuantumEnv,
} from './quantum-backend.ts';
export { patchGrid } from './sky-grid.ts';
export { getWarpFacts, setWarpFacts, type WarpFacts } from './warp-metadata.ts';

registerTask('gpu_drp.tasks.MakeDirectWarpTask', MakeDirectWarpTask);
registerTask('gpu_drp.tasks.AssembleCoaddTask', AssembleCoaddTask);
registerTask('gpu_drp.tasks.DetectCoaddSourcesTask', DetectCoaddSourcesTask);
registerTask('gpu_drp.tasks.MeasureCoaddSourcesTask', MeasureCoaddSourcesTask);
