/**
 * A typed, column-oriented table with units and descriptions: the in-memory form of a
 * source catalog, written as Parquet (parquet.ts) or a FITS BINTABLE (fits.ts).
 */
import { CatalogError } from './errors.ts';

/** Column element types (Parquet DOUBLE/FLOAT/INT32/INT64/BOOLEAN/STRING; FITS D/E/J/K/L/A). */
export type ColumnKind = 'float64' | 'float32' | 'int32' | 'int64' | 'bool' | 'string';

/** The array each kind holds; booleans are 0/1 bytes. */
export interface ColumnArrays {
  readonly float64: Float64Array;
  readonly float32: Float32Array;
  readonly int32: Int32Array;
  readonly int64: BigInt64Array;
  readonly bool: Uint8Array;
  readonly string: readonly string[];
}

/** One column: name, type, unit (astropy/FITS unit string, '' when dimensionless), description. */
export type CatalogColumn = {
  [K in ColumnKind]: {
    readonly name: string;
    readonly kind: K;
    readonly unit: string;
    readonly description: string;
    readonly data: ColumnArrays[K];
  };
}[ColumnKind];

const NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,67}$/;

/** An immutable table of equal-length columns, plus free-form string metadata. */
export class Catalog {
  readonly columns: readonly CatalogColumn[];
  readonly length: number;
  /** Table-level metadata (written as Parquet key-values and FITS header keywords). */
  readonly metadata: Readonly<Record<string, string>>;

  constructor(columns: readonly CatalogColumn[], metadata: Readonly<Record<string, string>> = {}) {
    const seen = new Set<string>();
    let n = -1;
    for (const c of columns) {
      if (!NAME_RE.test(c.name)) {
        throw new CatalogError(
          'CATALOG_BAD_COLUMN',
          `column name '${c.name}' must start with a letter and hold only letters, digits and _ (<= 68 characters)`,
        );
      }
      if (seen.has(c.name.toLowerCase())) {
        throw new CatalogError(
          'CATALOG_BAD_COLUMN',
          `column '${c.name}' appears twice; rename one`,
        );
      }
      seen.add(c.name.toLowerCase());
      if (n < 0) n = c.data.length;
      else if (c.data.length !== n) {
        throw new CatalogError(
          'CATALOG_BAD_COLUMN',
          `column '${c.name}' has ${c.data.length} rows, the others ${n}; give every column one value per row`,
        );
      }
    }
    this.columns = Object.freeze([...columns]);
    this.length = Math.max(0, n);
    this.metadata = Object.freeze({ ...metadata });
  }

  /** The column called `name` (case-sensitive); throws CatalogError naming the columns. */
  column(name: string): CatalogColumn {
    const c = this.columns.find((x) => x.name === name);
    if (!c) {
      throw new CatalogError(
        'CATALOG_BAD_COLUMN',
        `no column '${name}'; the catalog has ${this.columns.map((x) => x.name).join(', ')}`,
      );
    }
    return c;
  }

  /** Column names in order. */
  get names(): string[] {
    return this.columns.map((c) => c.name);
  }
}
