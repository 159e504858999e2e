/**
 * Errors of the registry. Every error has a stable string `code` and a message that says
 * what to do next. Data-ID errors come from the dimensions universe and are re-exported
 * here (`DataIdError`, codes `DATAID_*`); where-clause errors come from src/butler/expr
 * (`ExprError`, codes `WHERE_*`).
 */

export { DataIdError, DimensionError } from '../dimensions/errors.ts';

/** Stable codes of {@link RegistryError}s. */
export type RegistryErrorCode =
  | 'MISSING_DATASET_TYPE'
  | 'MISSING_COLLECTION'
  | 'MISSING_DATASET'
  | 'COLLECTION_TYPE'
  | 'COLLECTION_CYCLE'
  | 'COLLECTION_IN_USE'
  | 'CONFLICTING_DEFINITION'
  | 'DATASTORE_RECORDS_EXIST'
  | 'SCHEMA_VERSION'
  | 'REPOSITORY_NOT_FOUND'
  | 'REGISTRY_URL'
  | 'REGISTRY_CONNECTION'
  | 'REGISTRY_BUSY'
  | 'REGISTRY_CLOSED'
  | 'BAD_REGION'
  | 'BAD_ARGUMENT'
  | 'DATABASE';

/** Base class of the registry's errors. */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  constructor(code: RegistryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
    this.code = code;
  }
}

/** A dataset type that is not registered. `known` lists the registered names. */
export class MissingDatasetTypeError extends RegistryError {
  readonly datasetType: string;
  readonly known: readonly string[];
  constructor(datasetType: string, known: readonly string[]) {
    super(
      'MISSING_DATASET_TYPE',
      `dataset type '${datasetType}' is not registered; ` +
        (known.length > 0
          ? `registered types: ${known.join(', ')}`
          : 'no dataset types are registered yet') +
        '. Register it first (registerDatasetType) or fix the name.',
    );
    this.name = 'MissingDatasetTypeError';
    this.datasetType = datasetType;
    this.known = known;
  }
}

/** A collection that does not exist. */
export class MissingCollectionError extends RegistryError {
  readonly collection: string;
  constructor(collection: string, hint = 'register it first (registerRun / registerCollection)') {
    super('MISSING_COLLECTION', `collection '${collection}' does not exist; ${hint}`);
    this.name = 'MissingCollectionError';
    this.collection = collection;
  }
}

/** A dataset id that the registry does not hold. */
export class MissingDatasetError extends RegistryError {
  readonly ids: readonly string[];
  constructor(ids: readonly string[], what: string) {
    const shown =
      ids.slice(0, 5).join(', ') + (ids.length > 5 ? `, ... (${ids.length} in all)` : '');
    super('MISSING_DATASET', `no dataset with id ${shown}; ${what}`);
    this.name = 'MissingDatasetError';
    this.ids = ids;
  }
}

/** An operation on a collection of the wrong type (e.g. associating into a RUN). */
export class CollectionTypeError extends RegistryError {
  readonly collection: string;
  constructor(collection: string, message: string) {
    super('COLLECTION_TYPE', message);
    this.name = 'CollectionTypeError';
    this.collection = collection;
  }
}

/** A chain definition that would make a collection its own descendant. */
export class CollectionCycleError extends RegistryError {
  readonly parent: string;
  readonly child: string;
  constructor(parent: string, child: string) {
    super(
      'COLLECTION_CYCLE',
      `putting '${child}' into chain '${parent}' would create a cycle ('${parent}' is '${child}' or ` +
        `one of its descendants); choose children that do not contain '${parent}'`,
    );
    this.name = 'CollectionCycleError';
    this.parent = parent;
    this.child = child;
  }
}

/** A collection that cannot be removed because chains still include it. */
export class CollectionInUseError extends RegistryError {
  readonly collection: string;
  readonly parents: readonly string[];
  constructor(collection: string, parents: readonly string[]) {
    super(
      'COLLECTION_IN_USE',
      `collection '${collection}' is a child of chained collection(s) ${parents.map((p) => `'${p}'`).join(', ')}; ` +
        `remove it from them first (setCollectionChain(parent, ['${collection}'], {mode: 'remove'}))`,
    );
    this.name = 'CollectionInUseError';
    this.collection = collection;
    this.parents = parents;
  }
}

/**
 * A definition that conflicts with an existing one: a dataset type re-registered with
 * other dimensions or storage class, a second dataset with the same type and data ID in a
 * collection, a dimension record that differs from the stored one, ...
 */
export class ConflictingDefinitionError extends RegistryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFLICTING_DEFINITION', message, options);
    this.name = 'ConflictingDefinitionError';
  }
}

/** Datasets that cannot be removed because the datastore still records files for them. */
export class DatastoreRecordsExistError extends RegistryError {
  readonly ids: readonly string[];
  constructor(ids: readonly string[]) {
    super(
      'DATASTORE_RECORDS_EXIST',
      `${ids.length} dataset(s) still have datastore records (e.g. ${ids[0]}); delete their files ` +
        'and call removeDatastoreRecords first (the Butler does this when removing datasets)',
    );
    this.name = 'DatastoreRecordsExistError';
    this.ids = ids;
  }
}

/** The repository's schema or dimensions universe does not match this gpu-drp. */
export class SchemaVersionError extends RegistryError {
  constructor(message: string) {
    super('SCHEMA_VERSION', message);
    this.name = 'SchemaVersionError';
  }
}

/** The database holds no repository (open without `create`). */
export class RepositoryNotFoundError extends RegistryError {
  constructor(where: string) {
    super(
      'REPOSITORY_NOT_FOUND',
      `no butler registry at ${where}; create one with Registry.open(url, {create: true}) ` +
        '(or `butler create`), or check the URL',
    );
    this.name = 'RepositoryNotFoundError';
  }
}

/** A registry URL that cannot be understood. */
export class RegistryUrlError extends RegistryError {
  constructor(message: string) {
    super('REGISTRY_URL', message);
    this.name = 'RegistryUrlError';
  }
}

/** The database could not be reached or opened. The URL in the message is redacted. */
export class RegistryConnectionError extends RegistryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('REGISTRY_CONNECTION', message, options);
    this.name = 'RegistryConnectionError';
  }
}

/** The database stayed locked by other writers beyond the busy timeout. */
export class RegistryBusyError extends RegistryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('REGISTRY_BUSY', message, options);
    this.name = 'RegistryBusyError';
  }
}

/** The registry was used after close(). */
export class RegistryClosedError extends RegistryError {
  constructor() {
    super('REGISTRY_CLOSED', 'the registry is closed; open it again with Registry.open(url)');
    this.name = 'RegistryClosedError';
  }
}

/** A sky region that is not a valid convex spherical polygon, circle, box or point. */
export class RegionError extends RegistryError {
  constructor(message: string) {
    super('BAD_REGION', message);
    this.name = 'RegionError';
  }
}

/** An invalid argument (bad name, bad option combination). */
export class RegistryArgumentError extends RegistryError {
  constructor(message: string) {
    super('BAD_ARGUMENT', message);
    this.name = 'RegistryArgumentError';
  }
}

/** A database error that has no more specific class; the message carries the driver's. */
export class RegistryDatabaseError extends RegistryError {
  /** The driver's error code (SQLite `SQLITE_*`, PostgreSQL SQLSTATE), if any. */
  readonly dbCode: string | null;
  constructor(message: string, dbCode: string | null, options?: { cause?: unknown }) {
    super('DATABASE', message, options);
    this.name = 'RegistryDatabaseError';
    this.dbCode = dbCode;
  }
}
