/**
 * Catalog (src/catalog) <-> Parquet: LSST's `SourceCatalog` / `ArrowAstropy` tables.
 *
 * Written by `catalogToParquet` (src/catalog/parquet.ts); read back with hyparquet into a
 * Catalog. Column kinds follow the Parquet physical types (DOUBLE float64, FLOAT float32,
 * INT32 int32, INT64 int64, BOOLEAN bool, UTF-8 BYTE_ARRAY string); units and
 * descriptions come from the `gpu_drp.columns` key-value entry, and every other key-value
 * entry (except Arrow's own `ARROW:*` schema entries) becomes table metadata. Files from
 * other writers are read too: optional float columns with nulls get NaN; nulls in other
 * kinds, nested columns, and logical types other than strings and plain integers are
 * refused with FormatterError DATASTORE_BAD_FILE.
 */

import { readFile } from 'node:fs/promises';
import { type FileMetaData, parquetMetadata, parquetRead } from 'hyparquet';
import { catalogToParquet } from '../../../catalog/parquet.ts';
import { Catalog, type CatalogColumn } from '../../../catalog/table.ts';
import { FormatterError } from '../errors.ts';
import type { Formatter } from './types.ts';

const NAME = 'ParquetCatalogFormatter';
const COLUMNS_KEY = 'gpu_drp.columns';

function bad(message: string, cause?: unknown): FormatterError {
  return new FormatterError(
    'DATASTORE_BAD_FILE',
    NAME,
    message,
    cause === undefined ? undefined : { cause },
  );
}

type Kind = CatalogColumn['kind'];

function kindOf(el: FileMetaData['schema'][number]): Kind {
  const converted = el.converted_type;
  const logical = el.logical_type?.type;
  const plainInt =
    converted === undefined ||
    converted === 'INT_8' ||
    converted === 'INT_16' ||
    converted === 'INT_32' ||
    converted === 'INT_64';
  switch (el.type) {
    case 'DOUBLE':
      return 'float64';
    case 'FLOAT':
      return 'float32';
    case 'INT32':
      if (plainInt && (logical === undefined || logical === 'INTEGER')) return 'int32';
      break;
    case 'INT64':
      if (plainInt && (logical === undefined || logical === 'INTEGER')) return 'int64';
      break;
    case 'BOOLEAN':
      return 'bool';
    case 'BYTE_ARRAY':
      if (converted === 'UTF8' || logical === 'STRING') return 'string';
      break;
    default:
      break;
  }
  throw bad(
    `column '${el.name}' has Parquet type ${el.type}${converted ? `/${converted}` : ''}${logical ? ` (${logical})` : ''}, which a Catalog cannot hold; ` +
      'catalog columns are DOUBLE, FLOAT, INT32, INT64, BOOLEAN or UTF-8 strings',
  );
}

/** Decode Parquet bytes into a Catalog (see the module comment). */
export async function parquetToCatalog(bytes: Uint8Array): Promise<Catalog> {
  const file = bytes.buffer.slice(
    bytes.byteOffset,
    bytes.byteOffset + bytes.byteLength,
  ) as ArrayBuffer;
  let meta: FileMetaData;
  try {
    meta = parquetMetadata(file);
  } catch (e) {
    throw bad(`not a readable Parquet file (${(e as Error).message})`, e);
  }
  const root = meta.schema[0];
  const leaves = meta.schema.slice(1);
  if (!root || leaves.length !== (root.num_children ?? 0) || leaves.some((l) => l.num_children)) {
    throw bad('nested Parquet columns are not supported; a catalog is a flat table');
  }
  const n = Number(meta.num_rows);
  const kv = new Map((meta.key_value_metadata ?? []).map((e) => [e.key, e.value ?? '']));
  const described = new Map<string, { unit?: string; description?: string }>();
  const colsJson = kv.get(COLUMNS_KEY);
  if (colsJson) {
    try {
      for (const c of JSON.parse(colsJson) as Array<{
        name: string;
        unit?: string;
        description?: string;
      }>) {
        described.set(c.name, c);
      }
    } catch (e) {
      throw bad(`the ${COLUMNS_KEY} metadata is not valid JSON`, e);
    }
  }
  const kinds = leaves.map((el) => kindOf(el));
  const parts = new Map<string, Array<{ start: number; data: ArrayLike<unknown> }>>();
  try {
    await parquetRead({
      file,
      onChunk: (c) => {
        const list = parts.get(c.columnName) ?? [];
        list.push({ start: c.rowStart, data: c.columnData as ArrayLike<unknown> });
        parts.set(c.columnName, list);
      },
    });
  } catch (e) {
    throw bad(`cannot decode the Parquet data (${(e as Error).message})`, e);
  }
  const columns: CatalogColumn[] = leaves.map((el, i) => {
    const kind = kinds[i]!;
    const name = el.name;
    const chunks = parts.get(name) ?? [];
    const d = described.get(name);
    const base = { name, unit: d?.unit ?? '', description: d?.description ?? '' };
    const fill = <A extends { [k: number]: unknown; length: number }>(
      out: A,
      conv: (v: unknown, row: number) => A[number],
    ): A => {
      let filled = 0;
      for (const ch of chunks) {
        for (let k = 0; k < ch.data.length; k++) {
          const row = ch.start + k;
          if (row >= 0 && row < n) {
            out[row] = conv(ch.data[k], row);
            filled++;
          }
        }
      }
      if (filled < n) throw bad(`column '${name}' has ${filled} values for ${n} rows`);
      return out;
    };
    const nullIn = (row: number): never => {
      throw bad(
        `column '${name}' is null in row ${row}; a Catalog ${kind} column cannot hold nulls (only float columns, as NaN)`,
      );
    };
    switch (kind) {
      case 'float64':
        return {
          ...base,
          kind,
          data: fill(new Float64Array(n), (v) => (v == null ? Number.NaN : Number(v))),
        };
      case 'float32':
        return {
          ...base,
          kind,
          data: fill(new Float32Array(n), (v) => (v == null ? Number.NaN : Number(v))),
        };
      case 'int32':
        return {
          ...base,
          kind,
          data: fill(new Int32Array(n), (v, r) => (v == null ? nullIn(r) : Number(v))),
        };
      case 'int64':
        return {
          ...base,
          kind,
          data: fill(new BigInt64Array(n), (v, r) => (v == null ? nullIn(r) : BigInt(v as bigint))),
        };
      case 'bool':
        return {
          ...base,
          kind,
          data: fill(new Uint8Array(n), (v, r) => (v == null ? nullIn(r) : v ? 1 : 0)),
        };
      default:
        return {
          ...base,
          kind,
          data: fill(new Array<string>(n), (v, r) => (v == null ? nullIn(r) : String(v))),
        };
    }
  });
  const metadata: Record<string, string> = {};
  for (const [k, v] of kv) {
    if (k !== COLUMNS_KEY && !k.startsWith('ARROW:')) metadata[k] = v;
  }
  try {
    return new Catalog(columns, metadata);
  } catch (e) {
    throw bad(`the columns do not form a catalog: ${(e as Error).message}`, e);
  }
}

/** Formatter of `SourceCatalog` and `ArrowAstropy` (see the module comment). */
export const parquetCatalogFormatter: Formatter<Catalog> = {
  name: NAME,
  extension: '.parq',
  parameters: [],
  recipes: [],
  accepted: 'a Catalog (src/catalog/table.ts)',
  accepts: (obj: unknown): obj is Catalog => obj instanceof Catalog,
  toBytes: (obj: Catalog): Uint8Array => catalogToParquet(obj),
  fromBytes: (bytes: Uint8Array): Promise<Catalog> => parquetToCatalog(bytes),
  fromFile: async (path: string): Promise<Catalog> => parquetToCatalog(await readFile(path)),
};
