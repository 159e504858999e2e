/** Errors raised by the survey simulator. */

/** Stable codes of {@link SimError}. */
export type SimErrorCode =
  /** The configuration failed validation (the message lists the fields). */
  | 'SIM_BAD_CONFIG'
  /** The output directory cannot be created or written. */
  | 'SIM_IO';

/** Base class of simulator errors: stable `code`, message says what to do next. */
export class SimError extends Error {
  /** Stable machine-readable code. */
  readonly code: SimErrorCode;

  constructor(code: SimErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SimError';
    this.code = code;
  }
}
