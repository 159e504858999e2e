/**
 * Errors of the sizing model (`gpu-bench size`): bad survey inputs, bad throughput
 * profiles, unreadable result folders. Each has a stable `code` and a message that says
 * what to fix.
 */

/** Stable codes of {@link SizingError}. */
export type SizingErrorCode =
  /** The survey/facility inputs failed validation (negative visits, shares not summing to 100%, ...). */
  | 'SIZING_BAD_INPUT'
  /** A throughput profile (--profile) failed validation. */
  | 'SIZING_BAD_PROFILE'
  /** A file or folder named on the command line could not be read or parsed. */
  | 'SIZING_READ_FAILED';

/** An error of the sizing model; `code` is stable, the message says what to do next. */
export class SizingError extends Error {
  readonly code: SizingErrorCode;
  constructor(code: SizingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SizingError';
    this.code = code;
  }
}
