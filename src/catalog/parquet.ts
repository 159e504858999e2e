/**
 * Catalogs as Parquet (what LSST uses for source tables), through hyparquet-writer
 * (pure JavaScript, no native code; see docs/detection.md for the choice). Columns are
 * required (non-null) physical types: DOUBLE, FLOAT, INT32, INT64, BOOLEAN, and UTF-8
 * BYTE_ARRAY for strings; one row group per 100,000 rows, SNAPPY pages. Units and
 * descriptions go into the file's key-value metadata: `gpu_drp.columns` holds a JSON
 * array of {name, unit, description}, and each table metadata entry is copied as is.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { type ColumnSource, parquetWriteBuffer } from 'hyparquet-writer';
import { CatalogError } from './errors.ts';
import type { Catalog, CatalogColumn } from './table.ts';

const TYPE = {
  float64: 'DOUBLE',
  float32: 'FLOAT',
  int32: 'INT32',
  int64: 'INT64',
  bool: 'BOOLEAN',
  string: 'STRING',
} as const;

function source(c: CatalogColumn): ColumnSource {
  // Booleans go in as JS booleans; the rest as their typed arrays (or string arrays).
  const data = c.kind === 'bool' ? Array.from(c.data, (v) => v !== 0) : c.data;
  return { name: c.name, data: data as ColumnSource['data'], type: TYPE[c.kind], nullable: false };
}

/** Encode `cat` as a Parquet file in memory. */
export function catalogToParquet(cat: Catalog): Uint8Array {
  const kvMetadata = [
    {
      key: 'gpu_drp.columns',
      value: JSON.stringify(
        cat.columns.map((c) => ({ name: c.name, unit: c.unit, description: c.description })),
      ),
    },
    ...Object.entries(cat.metadata).map(([key, value]) => ({ key, value })),
  ];
  const buf = parquetWriteBuffer({
    columnData: cat.columns.map(source),
    kvMetadata,
    rowGroupSize: 100_000,
    createdBy: 'gpu-drp (hyparquet-writer)',
  });
  return new Uint8Array(buf);
}

/** Write `cat` to `path` as Parquet, atomically (temp file + rename). */
export async function writeCatalogParquet(path: string, cat: Catalog): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, catalogToParquet(cat));
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new CatalogError(
      'CATALOG_IO',
      `cannot write ${path}: ${(e as Error).message}; check the directory exists and is writable`,
      { cause: e },
    );
  }
}
