/**
 * Shared Butler types: data IDs, dataset types, dataset references, collection types and
 * datastore records. These are plain data shapes used by the registry
 * (`src/butler/registry/`), the datastore (`src/butler/datastore/`) and the Butler itself.
 *
 * Conventions follow LSST's daf_butler: a data ID maps dimension names (`instrument`, `visit`,
 * `detector`, ...) to their primary-key values; a dataset is identified by a UUID and lives in
 * exactly one RUN collection.
 */

/** One data ID value: a string key (e.g. instrument name, band) or an integer key (visit id). */
export type DataIdValue = string | number;

/** A data ID: dimension name -> key value (e.g. `{ instrument: 'SimCam', visit: 12, detector: 3 }`). */
export type DataId = Readonly<Record<string, DataIdValue>>;

/**
 * A named kind of dataset: its dimensions (the data ID keys, required dimensions of the
 * universe) and its storage class (how the datastore serializes it). Calibration dataset types
 * may be certified into CALIBRATION collections.
 */
export interface DatasetType {
  /** Dataset type name, e.g. `calexp`, `src`, `deepCoadd`. */
  readonly name: string;
  /** Dimension names of the data IDs (e.g. `['instrument', 'visit', 'detector']`). */
  readonly dimensions: readonly string[];
  /** Storage class name, e.g. `ExposureF`, `SourceCatalog`. */
  readonly storageClass: string;
  /** True for calibration products (bias, flat, ...). Defaults to false. */
  readonly isCalibration?: boolean;
}

/** A resolved reference to one dataset stored in (or destined for) the repository. */
export interface DatasetRef {
  /** Dataset UUID (canonical lower-case 8-4-4-4-12 hex form). */
  readonly id: string;
  /** The dataset type. */
  readonly datasetType: DatasetType;
  /** Data ID with required + implied dimension values (e.g. band from physical_filter). */
  readonly dataId: DataId;
  /** Name of the RUN collection holding the dataset. */
  readonly run: string;
}

/** Collection kinds, as in daf_butler. */
export type CollectionType = 'RUN' | 'TAGGED' | 'CHAINED' | 'CALIBRATION';

/** One datastore record: where and how a dataset (or one of its components) is stored. */
export interface DatastoreRecord {
  /** UUID of the dataset this record belongs to. */
  readonly datasetId: string;
  /** Path relative to the datastore root, or an absolute URI for direct ingest. */
  readonly path: string;
  /** Formatter name used to write/read the file. */
  readonly formatter: string;
  /** Storage class name of the stored object. */
  readonly storageClass: string;
  /** Checksum of the file (e.g. `sha256:<hex>`), or null when not computed. */
  readonly checksum: string | null;
  /** File size in bytes. */
  readonly size: number;
  /** Component name when the dataset is stored as separate component files. */
  readonly component?: string;
}

/**
 * How dataset UUIDs are generated on insert:
 * - `UNIQUE`: a fresh UUIDv7 (time-ordered, random);
 * - `DATAID_TYPE`: UUIDv5 of the dataset type name + data ID (same in every run);
 * - `DATAID_TYPE_RUN`: UUIDv5 of the dataset type name + data ID + run name.
 */
export type IdGenerationMode = 'UNIQUE' | 'DATAID_TYPE' | 'DATAID_TYPE_RUN';
