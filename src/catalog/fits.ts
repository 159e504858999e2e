/**
 * Catalogs as FITS binary tables through src/fits (writeFits): an empty primary HDU and
 * one BINTABLE HDU. Types: float64 D, float32 E, int32 J, int64 K, bool L, string A
 * (width of the longest value). Units go to TUNITn; descriptions to the TTYPEn comments
 * and, in full, to TCOMMn (the convention astropy and TOPCAT show); table metadata to
 * HIERARCH-free header keywords when they fit (8-character upper-case keys), else as
 * COMMENT cards.
 */
import { Header } from '../fits/header.ts';
import type { BinTableHduInput, ColumnInput } from '../fits/index.ts';
import { writeFits } from '../fits/index.ts';
import { CatalogError } from './errors.ts';
import type { Catalog, CatalogColumn } from './table.ts';

function fitsColumn(c: CatalogColumn): ColumnInput {
  const base = { name: c.name, ...(c.unit ? { unit: c.unit } : {}) };
  switch (c.kind) {
    case 'bool':
      return { ...base, data: c.data, type: 'L' };
    case 'string':
      return { ...base, data: [...c.data] };
    default:
      return { ...base, data: c.data };
  }
}

/** The BINTABLE HDU of `cat` named `extname`. */
export function catalogHdu(cat: Catalog, extname = 'SOURCES'): BinTableHduInput {
  const header = new Header();
  cat.columns.forEach((c, i) => {
    if (c.description) header.set(`TCOMM${i + 1}`, c.description.slice(0, 68));
  });
  for (const [k, v] of Object.entries(cat.metadata)) {
    if (/^[A-Z0-9_-]{1,8}$/.test(k) && v.length <= 68) header.set(k, v);
    else header.set('COMMENT', `${k} = ${v}`.slice(0, 72));
  }
  return {
    type: 'bintable',
    name: extname,
    header,
    columns: cat.columns.map(fitsColumn),
    nrows: cat.length,
  };
}

/** Write `cat` as a FITS file (primary + one BINTABLE), atomically. */
export async function writeCatalogFits(
  path: string,
  cat: Catalog,
  extname = 'SOURCES',
): Promise<void> {
  try {
    await writeFits(path, [{ header: new Header(), data: null }, catalogHdu(cat, extname)]);
  } catch (e) {
    throw new CatalogError(
      'CATALOG_IO',
      `cannot write ${path}: ${(e as Error).message}; check the directory exists and is writable`,
      { cause: e },
    );
  }
}
