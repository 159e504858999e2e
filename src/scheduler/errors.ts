/** Errors of the coadd scheduler. */

export class SchedulerError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SchedulerError';
    this.code = code;
  }
}
