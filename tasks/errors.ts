/** Errors of the coadd PipelineTask adapters (tasks/). */

/** Stable codes of {@link CoaddTaskError}. */
export type CoaddTaskErrorCode =
  | 'TASK_NO_BACKEND'
  | 'TASK_BAD_INPUT'
  | 'TASK_BAD_DETECTIONS'
  | 'TASK_NO_QUANTUM';

/** A coadd task could not run: bad inputs, an unusable stored detection, no quantum. */
export class CoaddTaskError extends Error {
  readonly code: CoaddTaskErrorCode;
  constructor(code: CoaddTaskErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CoaddTaskError';
    this.code = code;
  }
}
