/** Errors of the ops: bad parameters or inputs, named by op, with a next step. */

export class OpError extends Error {
  readonly code: string;
  /** The op that refused, e.g. 'convolve'. */
  readonly op: string;
  constructor(code: string, op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'OpError';
    this.code = code;
    this.op = op;
  }
}

/** Invalid parameters or inputs for an op. The message says how to fix them. */
export class OpInputError extends OpError {
  constructor(op: string, message: string) {
    super('OP_BAD_INPUT', op, message);
    this.name = 'OpInputError';
  }
}
