/**
 * Source catalogs: column validation, the FITS BINTABLE written through src/fits and read
 * back by our reader (types, units, descriptions, values), and the Parquet file read
 * back by hyparquet (the reader hyparquet-writer is built on; pyarrow/pandas and astropy
 * checks are scripts/check-catalog-python.py, output in fixtures/catalog/).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Catalog,
  CatalogError,
  catalogToParquet,
  writeCatalogFits,
  writeCatalogParquet,
} from '../../src/catalog/index.ts';
import { readFits } from '../../src/fits/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'gpu-drp-catalog-'));

function sample(): Catalog {
  return new Catalog(
    [
      {
        name: 'id',
        kind: 'int64',
        unit: '',
        description: 'source id',
        data: BigInt64Array.from([1n, 2n, 9007199254740993n]),
      },
      {
        name: 'x',
        kind: 'float64',
        unit: 'pix',
        description: 'centroid x',
        data: Float64Array.from([1.5, -2.25, 1e300]),
      },
      {
        name: 'flux',
        kind: 'float32',
        unit: 'nJy',
        description: 'PSF flux',
        data: Float32Array.from([1, Number.NaN, 3.5]),
      },
      {
        name: 'n',
        kind: 'int32',
        unit: 'pix',
        description: 'pixels',
        data: Int32Array.from([7, -1, 2147483647]),
      },
      {
        name: 'flag_edge',
        kind: 'bool',
        unit: '',
        description: 'on the edge',
        data: Uint8Array.from([0, 1, 0]),
      },
      { name: 'band', kind: 'string', unit: '', description: 'filter', data: ['r', 'i', 'g'] },
    ],
    { TELESCOP: 'gpu-drp sim', pipeline_version: '0.1.0' },
  );
}

describe('catalogs', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses ragged, duplicate or badly named columns', () => {
    const a = {
      name: 'a',
      kind: 'int32' as const,
      unit: '',
      description: '',
      data: Int32Array.from([1]),
    };
    expect(() => new Catalog([a, { ...a, name: 'b', data: Int32Array.from([1, 2]) }])).toThrow(
      CatalogError,
    );
    expect(() => new Catalog([a, { ...a, name: 'A' }])).toThrow(/twice/);
    expect(() => new Catalog([{ ...a, name: '1x' }])).toThrow(/letter/);
    expect(sample().length).toBe(3);
    expect(() => sample().column('nope')).toThrow(/id, x, flux/);
  });

  it('FITS BINTABLE: types, units, descriptions and values round-trip', async () => {
    const path = join(dir, 'cat.fits');
    await writeCatalogFits(path, sample());
    const f = await readFits(path, { verifyChecksum: true });
    const t = f.get('SOURCES');
    expect(t.type).toBe('bintable');
    if (t.type !== 'bintable') return;
    const col = (n: string) => t.columns.find((c) => c.name === n)!;
    expect(Array.from(col('id').data as BigInt64Array)).toEqual([1n, 2n, 9007199254740993n]);
    expect(Array.from(col('x').data as Float64Array)).toEqual([1.5, -2.25, 1e300]);
    const flux = col('flux').data as Float32Array;
    expect(flux[0]).toBe(1);
    expect(flux[1]).toBeNaN();
    expect(Array.from(col('n').data as Int32Array)).toEqual([7, -1, 2147483647]);
    expect(col('flag_edge').data).toEqual([false, true, false]);
    expect(col('band').data).toEqual(['r', 'i', 'g']);
    expect(col('x').unit).toBe('pix');
    expect(col('flux').unit).toBe('nJy');
    expect(t.header.get('TCOMM3')).toBe('PSF flux');
    expect(t.header.get('TELESCOP')).toBe('gpu-drp sim');
  });

  it('Parquet: hyparquet reads the columns, types and unit metadata back', async () => {
    const path = join(dir, 'cat.parquet');
    await writeCatalogParquet(path, sample());
    const bytes = readFileSync(path);
    expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const meta = parquetMetadata(ab);
    expect(Number(meta.num_rows)).toBe(3);
    const types = Object.fromEntries(meta.schema.slice(1).map((s) => [s.name, s.type]));
    expect(types).toEqual({
      id: 'INT64',
      x: 'DOUBLE',
      flux: 'FLOAT',
      n: 'INT32',
      flag_edge: 'BOOLEAN',
      band: 'BYTE_ARRAY',
    });
    const kv = Object.fromEntries((meta.key_value_metadata ?? []).map((e) => [e.key, e.value]));
    const cols = JSON.parse(kv['gpu_drp.columns']!) as Array<{ name: string; unit: string }>;
    expect(cols.find((c) => c.name === 'flux')!.unit).toBe('nJy');
    expect(kv.pipeline_version).toBe('0.1.0');
    const rows = await parquetReadObjects({ file: ab });
    expect(rows.map((r) => r.id)).toEqual([1n, 2n, 9007199254740993n]);
    expect(rows.map((r) => r.x)).toEqual([1.5, -2.25, 1e300]);
    expect(rows[1]!.flux).toBeNaN();
    expect(rows.map((r) => r.flag_edge)).toEqual([false, true, false]);
    expect(rows.map((r) => r.band)).toEqual(['r', 'i', 'g']);
    expect(catalogToParquet(new Catalog([])).length).toBeGreaterThan(8);
  });

  it('write failures are CatalogErrors with a next step', async () => {
    await expect(
      writeCatalogParquet(join(dir, 'no', 'such', 'dir.parquet'), sample()),
    ).rejects.toThrow(/directory exists/);
  });
});
