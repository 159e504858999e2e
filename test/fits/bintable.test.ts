import { describe, expect, it } from 'vitest';
import { parseTform } from '../../src/fits/bintable.ts';
import { Header } from '../../src/fits/header.ts';
import { fitsToBytes, parseFits } from '../../src/fits/index.ts';

describe('TFORM parsing', () => {
  it('reads repeat counts, types and variable-length descriptors', () => {
    expect(parseTform('1J')).toEqual({ type: 'J', repeat: 1 });
    expect(parseTform('E')).toEqual({ type: 'E', repeat: 1 });
    expect(parseTform('20A')).toEqual({ type: 'A', repeat: 20 });
    expect(parseTform('0J')).toEqual({ type: 'J', repeat: 0 });
    expect(parseTform('1PB(2048)')).toEqual({ type: 'B', repeat: 1, variable: 'P' });
    expect(parseTform('QD')).toEqual({ type: 'D', repeat: 1, variable: 'Q' });
    expect(() => parseTform('3Z')).toThrow(expect.objectContaining({ code: 'FITS_BAD_TABLE' }));
    expect(() => parseTform('2P')).toThrow(expect.objectContaining({ code: 'FITS_BAD_TABLE' }));
  });
});

describe('binary table round trip', () => {
  const columns = [
    { name: 'flag', data: [true, false, null] },
    {
      name: 'bits',
      data: Uint8Array.from([
        1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1,
      ]),
      repeat: 11,
      type: 'X' as const,
    },
    { name: 'u8', data: Uint8Array.from([0, 128, 255]), null: 255, unit: 'count' },
    { name: 'i8', data: Int8Array.from([-128, 0, 127]) },
    { name: 'i16', data: Int16Array.from([-32768, 0, 32767]) },
    { name: 'u16', data: Uint16Array.from([0, 32768, 65535]) },
    { name: 'i32', data: Int32Array.from([1, 2, 3, 4, 5, 6]), repeat: 2, dim: [2] },
    { name: 'u32', data: Uint32Array.from([0, 2 ** 31, 2 ** 32 - 1]) },
    { name: 'i64', data: BigInt64Array.from([-(2n ** 63n), 0n, 2n ** 63n - 1n]) },
    { name: 'u64', data: BigUint64Array.from([0n, 2n ** 63n, 2n ** 64n - 1n]) },
    { name: 'str', data: ['a', "it's", ''], width: 6 },
    { name: 'f32', data: Float32Array.from([1.5, Number.NaN, -0]), unit: 'mag' },
    { name: 'f64', data: Float64Array.from([Math.PI, 1e-300, Number.NEGATIVE_INFINITY]) },
    { name: 'cplx', data: Float32Array.from([1, 2, 3, 4, 5, 6]), type: 'C' as const },
    { name: 'dcplx', data: Float64Array.from([1, -1, 0, 0, 2.5, 3.5]), type: 'M' as const },
    { name: 'vla', data: [Float64Array.from([1, 2]), new Float64Array(0), Float64Array.from([3])] },
  ];

  it('writes every fixed type and P arrays and reads them back exactly', () => {
    const f = parseFits(fitsToBytes([{ type: 'bintable', name: 'T', columns }]), {
      verifyChecksum: true,
    });
    const t = f.table('t');
    expect(t.nrows).toBe(3);
    const byName = (n: string) => t.columns.find((c) => c.name === n)!;
    for (const col of columns) {
      const got = byName(col.name);
      expect(got.data, col.name).toEqual(col.data);
    }
    expect(byName('bits').type).toBe('X');
    expect(byName('bits').format).toBe('11X');
    expect(byName('u8').null).toBe(255);
    expect(byName('u8').unit).toBe('count');
    expect(byName('i32').dim).toEqual([2]);
    expect(byName('i32').repeat).toBe(2);
    expect(byName('cplx').type).toBe('C');
    expect(byName('vla').variable).toBe(true);
    expect(t.header.get('TFORM11')).toBe('6A');
    expect(t.header.get('TZERO6')).toBe(32768);
    expect(t.header.get('TZERO10')).toBe(2n ** 63n);
    expect(t.header.get('TNULL3')).toBe(255);
  });

  it('rejects columns of different lengths', () => {
    expect(() =>
      fitsToBytes([
        {
          type: 'bintable',
          columns: [
            { name: 'a', data: Int16Array.from([1, 2]) },
            { name: 'b', data: Int16Array.from([1, 2, 3]) },
          ],
        },
      ]),
    ).toThrow(expect.objectContaining({ code: 'FITS_BAD_ARGUMENT', key: 'TFORM2' }));
  });
});

/** A hand-made table: TSCAL/TZERO scaling and TNULL on a scaled column. */
function scaledTable(): Uint8Array {
  const h = new Header();
  for (const [k, v] of [
    ['XTENSION', 'BINTABLE'],
    ['BITPIX', 8],
    ['NAXIS', 2],
    ['NAXIS1', 2],
    ['NAXIS2', 3],
    ['PCOUNT', 0],
    ['GCOUNT', 1],
    ['TFIELDS', 1],
    ['TTYPE1', 'flux'],
    ['TFORM1', '1I'],
    ['TSCAL1', 0.5],
    ['TZERO1', 100],
    ['TNULL1', -1],
  ] as const) {
    h.set(k, v);
  }
  const primary = fitsToBytes([{ data: null }], { checksum: false });
  const head = h.toBytes();
  const out = new Uint8Array(primary.length + head.length + 2880);
  out.set(primary);
  out.set(head, primary.length);
  out.set([0, 4, 0xff, 0xff, 0xff, 0xfe], primary.length + head.length); // 4, -1 (null), -2
  return out;
}

describe('scaled columns', () => {
  it('applies TSCAL/TZERO in double precision with TNULL as NaN', () => {
    const t = parseFits(scaledTable()).table(1);
    expect(t.columns[0]!.data).toEqual(Float64Array.from([102, Number.NaN, 99]));
    expect(t.columns[0]!.null).toBeUndefined();
  });

  it('returns raw values with scale: false', () => {
    const t = parseFits(scaledTable(), { scale: false }).table(1);
    expect(t.columns[0]!.data).toEqual(Int16Array.from([4, -1, -2]));
    expect(t.columns[0]!.null).toBe(-1);
  });

  it('refuses a TFORM/NAXIS1 mismatch', () => {
    const bytes = scaledTable();
    const text = Buffer.from(bytes).toString('latin1');
    const at = text.indexOf('NAXIS1  =', 2880);
    bytes[at + 29] = '3'.charCodeAt(0);
    expect(() => parseFits(bytes, { file: 't.fits' })).toThrow(
      expect.objectContaining({ code: 'FITS_BAD_TABLE', key: 'NAXIS1', file: 't.fits', hdu: 1 }),
    );
  });
});
