/**
 * Public surface of `src/butler/registry`: the SQL registry (SQLite / PostgreSQL), its
 * errors, URL helpers, dataset-id generation and the spherical geometry it indexes regions
 * with.
 */

export * from './errors.ts';
export {
  type ChainMode,
  type CollectionInfo,
  type QueryDataIdsOptions,
  type QueryDatasetsOptions,
  type QueryRecordsOptions,
  Registry,
  type RegistryOpenOptions,
} from './registry.ts';
export { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';
export * from './spatial/index.ts';
export { parseRegistryUrl, type RegistryLocation, redactUrl } from './url.ts';
export {
  canonicalDatasetName,
  DATASET_ID_NAMESPACE,
  datasetId,
  isUuid,
  normalizeUuid,
  uuid5,
  uuid7,
} from './uuid.ts';
