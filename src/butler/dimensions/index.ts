/**
 * Public surface of `src/butler/dimensions`: the dimensions universe (configs/dimensions.yaml),
 * its elements and data-ID validation.
 */

export {
  type DimensionsConfig,
  defaultDimensionsConfigPath,
  FIELD_TYPES,
  parseDimensionsConfig,
  readDimensionsConfig,
} from './config.ts';
export * from './errors.ts';
export {
  type ColumnRole,
  type DimensionElement,
  DimensionUniverse,
  type ElementColumn,
  type FieldType,
  formatDataId,
  getDefaultUniverse,
  hasControlCharacters,
  type KeyType,
  type RecordLookup,
} from './universe.ts';
