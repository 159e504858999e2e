import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FitsError } from '../../src/fits/errors.ts';
import { Header } from '../../src/fits/header.ts';
import type { ImageArray } from '../../src/fits/image.ts';
import { fitsToBytes, parseFits, readFits, writeFits } from '../../src/fits/index.ts';

const dir = await mkdtemp(join(tmpdir(), 'fits-image-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const cases: [string, ImageArray, number, number | bigint | undefined][] = [
  ['uint8', Uint8Array.from([0, 1, 127, 128, 255, 42]), 8, undefined],
  ['int8', Int8Array.from([-128, -1, 0, 1, 127, 5]), 8, -128],
  ['int16', Int16Array.from([-32768, -1, 0, 1, 32767, 300]), 16, undefined],
  ['uint16', Uint16Array.from([0, 1, 32767, 32768, 65535, 300]), 16, 32768],
  ['int32', Int32Array.from([-(2 ** 31), -1, 0, 1, 2 ** 31 - 1, 70000]), 32, undefined],
  ['uint32', Uint32Array.from([0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 7]), 32, 2147483648],
  [
    'int64',
    BigInt64Array.from([-(2n ** 63n), -1n, 0n, 1n, 2n ** 63n - 1n, 2n ** 53n + 1n]),
    64,
    undefined,
  ],
  [
    'uint64',
    BigUint64Array.from([0n, 1n, 2n ** 63n, 2n ** 64n - 1n, 5n, 2n ** 53n + 1n]),
    64,
    9223372036854775808n,
  ],
  [
    'float32',
    Float32Array.from([0, -1.5, 3.4e38, Number.NaN, Number.POSITIVE_INFINITY, 1e-45]),
    -32,
    undefined,
  ],
  [
    'float64',
    Float64Array.from([0, -1.5, 1e308, Number.NaN, -Number.MIN_VALUE, Math.PI]),
    -64,
    undefined,
  ],
];

describe('image round trip', () => {
  for (const [name, data, bitpix, bzero] of cases) {
    it(`writes and reads ${name} (BITPIX ${bitpix}) bit-for-bit`, () => {
      const bytes = fitsToBytes([{ data, shape: [3, 2] }]);
      expect(bytes.length % 2880).toBe(0);
      const f = parseFits(bytes);
      const hdu = f.image(0);
      expect(hdu.header.get('BITPIX')).toBe(bitpix);
      expect(hdu.header.get('BZERO')).toBe(bzero);
      expect(hdu.shape).toEqual([3, 2]);
      expect(hdu.data?.constructor).toBe(data.constructor);
      expect(Buffer.from(hdu.data!.buffer, hdu.data!.byteOffset, hdu.data!.byteLength)).toEqual(
        Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      );
    });
  }

  it('stores big-endian on disk', () => {
    const bytes = fitsToBytes([{ data: Int16Array.from([0x0102]), shape: [1] }], {
      checksum: false,
    });
    expect([bytes[2880], bytes[2881]]).toEqual([1, 2]);
    const u = fitsToBytes([{ data: Uint16Array.from([0x0102]), shape: [1] }], { checksum: false });
    // 0x0102 - 32768 stored as int16 = 0x8102.
    expect([u[2880], u[2881]]).toEqual([0x81, 2]);
  });

  it('follows data index = x + naxis1 * y', () => {
    const data = new Float32Array(12).map((_, i) => i);
    const f = parseFits(fitsToBytes([{ data, shape: [4, 3] }]));
    const hdu = f.image(0);
    const x = 3;
    const y = 2;
    expect(hdu.data![x + hdu.shape[0]! * y]).toBe(11);
    expect(f.hdus[0]!.header.get('NAXIS1')).toBe(4);
    expect(f.hdus[0]!.header.get('NAXIS2')).toBe(3);
  });

  it('keeps BLANK raw for integers and exposes it in data units', () => {
    const data = Uint16Array.from([1, 65535, 3]);
    const f = parseFits(fitsToBytes([{ data, shape: [3], blank: 65535 }]));
    expect(f.image(0).header.get('BLANK')).toBe(32767);
    expect(f.image(0).blank).toBe(65535);
    expect(Array.from(f.image(0).data as Uint16Array)).toEqual([1, 65535, 3]);
  });
});

/** Builds a raw FITS image by hand (header cards + big-endian data). */
function rawImage(cards: string[], data: Uint8Array): Uint8Array {
  const h = Header.fromCardImages(cards.map((c) => c.padEnd(80, ' ')));
  const head = h.toBytes();
  const out = new Uint8Array(head.length + Math.ceil(data.length / 2880) * 2880);
  out.set(head);
  out.set(data, head.length);
  return out;
}

describe('BSCALE/BZERO/BLANK', () => {
  it('scales 16-bit integers to float32, BLANK to NaN, in double precision', () => {
    const be = new Uint8Array([0x00, 0x0a, 0xff, 0xff, 0x80, 0x00]); // 10, -1, -32768
    const bytes = rawImage(
      [
        'SIMPLE  = T',
        'BITPIX  = 16',
        'NAXIS   = 1',
        'NAXIS1  = 3',
        'BSCALE  = 0.1',
        'BZERO   = 1000.0',
        'BLANK   = -32768',
      ],
      be,
    );
    const hdu = parseFits(bytes).image(0);
    expect(hdu.data).toBeInstanceOf(Float32Array);
    expect(Array.from(hdu.data as Float32Array)).toEqual([
      Math.fround(1001),
      Math.fround(999.9),
      Number.NaN,
    ]);
    expect(hdu.blank).toBeUndefined();
  });

  it('scales 32-bit integers to float64', () => {
    const be = new Uint8Array([0, 0, 0, 3]);
    const bytes = rawImage(
      ['SIMPLE  = T', 'BITPIX  = 32', 'NAXIS   = 1', 'NAXIS1  = 1', 'BSCALE  = 2.5'],
      be,
    );
    const hdu = parseFits(bytes).image(0);
    expect(hdu.data).toBeInstanceOf(Float64Array);
    expect(hdu.data![0]).toBe(7.5);
  });

  it('returns raw stored values with scale: false', () => {
    const be = new Uint8Array([0x80, 0x00]);
    const bytes = rawImage(
      ['SIMPLE  = T', 'BITPIX  = 16', 'NAXIS   = 1', 'NAXIS1  = 1', 'BZERO   = 32768'],
      be,
    );
    expect(parseFits(bytes, { scale: false }).image(0).data).toEqual(Int16Array.from([-32768]));
    expect(parseFits(bytes).image(0).data).toEqual(Uint16Array.from([0]));
  });
});

describe('multi-extension files', () => {
  it('writes primary + IMAGE + BINTABLE and finds HDUs by index, EXTNAME and EXTVER', async () => {
    const primary = new Header();
    primary.set('TELESCOP', 'LSST');
    const wcs = new Header();
    wcs.set('CRVAL1', 150.1, 'deg');
    wcs.set('EXTVER', 2);
    const path = join(dir, 'mef.fits');
    await writeFits(path, [
      { header: primary, data: null },
      { name: 'IMAGE', data: new Float32Array(6).fill(1.5), shape: [3, 2] },
      { name: 'MASK', data: new Int32Array(6).fill(4), shape: [3, 2] },
      { name: 'IMAGE', header: wcs, data: new Float32Array(6).fill(2.5), shape: [3, 2] },
      {
        type: 'bintable',
        name: 'CAT',
        columns: [{ name: 'id', data: BigInt64Array.from([1n, 2n]) }],
      },
    ]);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
    const f = await readFits(path, { verifyChecksum: true });
    expect(f.hdus).toHaveLength(5);
    expect(f.hdus[0]!.header.get('TELESCOP')).toBe('LSST');
    expect(f.hdus[0]!.header.get('EXTEND')).toBe(true);
    expect(f.image('image').data![0]).toBe(1.5);
    expect(f.image({ name: 'IMAGE', ver: 2 }).data![0]).toBe(2.5);
    expect(f.image({ name: 'IMAGE', ver: 2 }).header.get('CRVAL1')).toBe(150.1);
    expect(f.image('mask').data).toEqual(new Int32Array(6).fill(4));
    expect(f.table('CAT').columns[0]!.data).toEqual(BigInt64Array.from([1n, 2n]));
    expect(f.get(2)).toBe(f.hdus[2]);
    expect(() => f.get('VARIANCE')).toThrow(
      expect.objectContaining({ code: 'FITS_HDU_NOT_FOUND' }),
    );
    expect(() => f.get(9)).toThrow(
      expect.objectContaining({ code: 'FITS_HDU_NOT_FOUND', file: path }),
    );
  });

  it('re-writes HDUs read from a file with the same pixels and cards', async () => {
    const src = await readFits('fixtures/fits/astropy/scale.fits');
    const back = parseFits(fitsToBytes(src.hdus));
    const a = src.image(0);
    const b = back.image(0);
    expect(b.data).toEqual(a.data);
    expect(b.header.get('BSCALE')).toBeUndefined();
    for (const key of a.header.keys()) {
      if (['BITPIX', 'BSCALE', 'BZERO', 'BLANK', 'CHECKSUM', 'DATASUM'].includes(key)) continue;
      expect(b.header.get(key), key).toEqual(a.header.get(key));
    }
  });

  it('inserts an empty primary HDU before a table', () => {
    const f = parseFits(
      fitsToBytes([{ type: 'bintable', columns: [{ name: 'a', data: Int16Array.from([1]) }] }]),
    );
    expect(f.hdus.map((h) => h.type)).toEqual(['image', 'bintable']);
  });
});

describe('atomic writes', () => {
  it('leaves nothing behind and keeps the old file when writing fails', async () => {
    const path = join(dir, 'atomic.fits');
    await writeFile(path, 'old');
    await expect(
      writeFits(path, [{ data: new Float32Array(3), shape: [2, 2] }]),
    ).rejects.toMatchObject({ code: 'FITS_BAD_ARGUMENT' });
    await expect(
      writeFits(join(dir, 'no/such/dir/x.fits'), [{ data: null }]),
    ).rejects.toMatchObject({
      code: 'FITS_IO',
    });
    expect(await readFile(path, 'utf8')).toBe('old');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('overwrites an existing file', async () => {
    const path = join(dir, 'over.fits');
    await writeFile(path, 'old');
    await writeFits(path, [{ data: Uint8Array.from([7]), shape: [1] }]);
    expect((await readFits(path)).image(0).data).toEqual(Uint8Array.from([7]));
  });

  it('reports unreadable paths as FITS_IO', async () => {
    await expect(readFits(join(dir, 'missing.fits'))).rejects.toBeInstanceOf(FitsError);
  });
});
