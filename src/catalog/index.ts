/**
 * Source catalogs: a typed column table with units and descriptions, written as Parquet
 * or as a FITS BINTABLE.
 */
export { CatalogError, type CatalogErrorCode } from './errors.ts';
export { catalogHdu, writeCatalogFits } from './fits.ts';
export { catalogToParquet, writeCatalogParquet } from './parquet.ts';
export { Catalog, type CatalogColumn, type ColumnArrays, type ColumnKind } from './table.ts';
