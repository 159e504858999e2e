/** Errors of the Butler itself (the registry, datastore and where-language have their own). */

export class ButlerError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ButlerError';
    this.code = code;
  }
}

/** No repository at the path, or its butler.yaml cannot be read. */
export class RepositoryConfigError extends ButlerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BUTLER_CONFIG', message, options);
    this.name = 'RepositoryConfigError';
  }
}

/** A dataset asked for by type and data ID is not in the collections searched. */
export class DatasetNotFoundError extends ButlerError {
  constructor(message: string) {
    super('DATASET_NOT_FOUND', message);
    this.name = 'DatasetNotFoundError';
  }
}

/** An operation needs an output run (or collections) and none was given. */
export class MissingRunError extends ButlerError {
  constructor(message: string) {
    super('NO_RUN', message);
    this.name = 'MissingRunError';
  }
}

/** An export/import file is malformed or from an incompatible universe. */
export class ExportFormatError extends ButlerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EXPORT_FORMAT', message, options);
    this.name = 'ExportFormatError';
  }
}
