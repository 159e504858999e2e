/**
 * Errors of quantum execution (setup problems; quantum failures are outcomes, not errors). Each
 * has a stable `code` and a message that says what to do next.
 */

/** Stable codes of {@link ExecError}. */
export type ExecErrorCode =
  /** A dataset type the graph writes is not registered (and registration was not asked for). */
  | 'EXEC_MISSING_DATASET_TYPE'
  /** A dataset type is registered with another definition than the graph's. */
  | 'EXEC_DATASET_TYPE_CONFLICT'
  /** Outputs of a quantum exist already (and neither skipping nor clobbering was asked for). */
  | 'EXEC_OUTPUTS_EXIST'
  /** The output run exists and --extend-run was not given. */
  | 'EXEC_RUN_EXISTS'
  /** A stored init-output (config) differs from the one this run would write. */
  | 'EXEC_INIT_OUTPUT_MISMATCH'
  /** The repository configuration cannot be read. */
  | 'EXEC_REPOSITORY'
  /** A worker process died or could not start. */
  | 'EXEC_WORKER';

/** Base class of the errors of `src/pipe/exec`. */
export class ExecError extends Error {
  /** Stable machine-readable code. */
  readonly code: ExecErrorCode;
  constructor(code: ExecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExecError';
    this.code = code;
  }
}
