/** Errors of the dimensions universe: bad configuration and invalid data IDs. */

/** Stable codes of {@link DimensionError}s. */
export type DimensionErrorCode =
  | 'DIMENSION_CONFIG'
  | 'DIMENSION_UNKNOWN_ELEMENT'
  | 'DATAID_MISSING_KEYS'
  | 'DATAID_UNKNOWN_KEYS'
  | 'DATAID_BAD_VALUE'
  | 'DATAID_INCONSISTENT'
  | 'DATAID_NO_RECORD';

/** Base class of the dimension errors; `code` is stable, the message says what to do next. */
export class DimensionError extends Error {
  readonly code: DimensionErrorCode;
  constructor(code: DimensionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DimensionError';
    this.code = code;
  }
}

/** The dimensions configuration (configs/dimensions.yaml or a custom file) is invalid. */
export class DimensionConfigError extends DimensionError {
  /** Path of the file, or null for an in-memory configuration. */
  readonly path: string | null;
  constructor(message: string, path: string | null, options?: { cause?: unknown }) {
    super(
      'DIMENSION_CONFIG',
      `dimensions configuration${path ? ` ${path}` : ''}: ${message}`,
      options,
    );
    this.name = 'DimensionConfigError';
    this.path = path;
  }
}

/** A dimension element name that the universe does not define. */
export class UnknownElementError extends DimensionError {
  readonly element: string;
  constructor(element: string, known: readonly string[]) {
    super(
      'DIMENSION_UNKNOWN_ELEMENT',
      `unknown dimension element '${element}'; the universe defines: ${known.join(', ')}`,
    );
    this.name = 'UnknownElementError';
    this.element = element;
  }
}

/**
 * A data ID that does not fit its dimensions: required keys missing, keys that are not
 * dimensions of it, values of the wrong type, implied values that contradict the records,
 * or keys whose dimension records do not exist. `keys` names the offending keys.
 */
export class DataIdError extends DimensionError {
  readonly keys: readonly string[];
  constructor(
    code: Extract<
      DimensionErrorCode,
      | 'DATAID_MISSING_KEYS'
      | 'DATAID_UNKNOWN_KEYS'
      | 'DATAID_BAD_VALUE'
      | 'DATAID_INCONSISTENT'
      | 'DATAID_NO_RECORD'
    >,
    message: string,
    keys: readonly string[],
  ) {
    super(code, message);
    this.name = 'DataIdError';
    this.keys = keys;
  }
}
