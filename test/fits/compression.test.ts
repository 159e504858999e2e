import { describe, expect, it } from 'vitest';
import { randomSequence } from '../../src/fits/compression/dither.ts';
import { plioDecode } from '../../src/fits/compression/plio.ts';
import { riceDecode, riceEncode } from '../../src/fits/compression/rice.ts';
import { Header } from '../../src/fits/header.ts';
import type { ImageArray } from '../../src/fits/image.ts';
import { fitsToBytes, parseFits } from '../../src/fits/index.ts';

describe('standard random sequence', () => {
  it('matches the convention (first values and the 10000th seed check)', () => {
    const r = randomSequence();
    expect(r).toHaveLength(10000);
    // seed_1 = 16807 / (2^31 - 1), as float32.
    expect(r[0]).toBe(Math.fround(16807 / 2147483647));
    expect(r[1]).toBe(Math.fround(282475249 / 2147483647));
  });
});

describe('Rice coding', () => {
  const cases: [1 | 2 | 4, number[]][] = [
    [
      4,
      [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 5,
      ],
    ],
    [4, [-(2 ** 31), 2 ** 31 - 1, 0, -1, 123456789, -987654321, 7, 7, 7]],
    [2, [-32768, 32767, 0, -1, 300, 301, 299, 1000]],
    [1, [0, 255, 128, 127, 1, 2, 3, 250]],
  ];
  for (const [bytepix, values] of cases) {
    it(`round-trips BYTEPIX ${bytepix} ${values.slice(0, 3).join(',')}...`, () => {
      const long = Array.from({ length: 100 }, (_, i) => values[i % values.length]!);
      const enc = riceEncode(long, 32, bytepix);
      const out = new Int32Array(long.length);
      riceDecode(enc, out, long.length, 32, bytepix);
      expect(Array.from(out)).toEqual(long);
    });
  }

  it('throws on a truncated stream instead of reading garbage', () => {
    const values = Array.from({ length: 64 }, (_, i) => i * 1000);
    const enc = riceEncode(values, 32, 4);
    expect(() => riceDecode(enc.subarray(0, 6), new Int32Array(64), 64, 32, 4)).toThrow(
      /end of the compressed/,
    );
  });
});

describe('PLIO line lists', () => {
  it('decodes runs and single pixels (old 3-word header)', () => {
    // Header: [0, 0, len]; then: 2 zeros (op 0), set pv=5 (op 1 + next word 0),
    // run of 3 x pv (op 4), pv += 2 and one pixel (op 6), 1 zero.
    const words = Int16Array.from([0, 0, 9, 0x0002, 0x1005, 0x0000, 0x4003, 0x6002, 0x0001]);
    const out = new Int32Array(8);
    plioDecode(words, out, 8);
    expect(Array.from(out)).toEqual([0, 0, 5, 5, 5, 7, 0, 0]);
  });
});

describe('writing tile-compressed images', () => {
  const nx = 45;
  const ny = 31;
  const images: [string, ImageArray][] = [
    [
      'float32',
      new Float32Array(nx * ny).map((_, i) => (i % 7 === 0 ? Number.NaN : Math.cos(i) * 1e5)),
    ],
    ['float64', new Float64Array(nx * ny).map((_, i) => Math.exp(i / 100))],
    ['int32', new Int32Array(nx * ny).map((_, i) => (i * 2654435761) | 0)],
    ['int16', new Int16Array(nx * ny).map((_, i) => (i % 200) - 100)],
    ['uint16', new Uint16Array(nx * ny).map((_, i) => 65535 - i)],
    ['uint8', new Uint8Array(nx * ny).map((_, i) => i)],
    ['int8', new Int8Array(nx * ny).map((_, i) => i)],
    ['uint32', new Uint32Array(nx * ny).map((_, i) => 4e9 - i * 1000)],
  ];
  for (const [name, data] of images) {
    for (const type of ['GZIP_2', 'GZIP_1', 'RICE_1', 'NOCOMPRESS'] as const) {
      if (type === 'RICE_1' && name.startsWith('float')) continue;
      it(`${name} with ${type} is lossless`, () => {
        const tile = type === 'GZIP_1' ? [10, 7] : undefined;
        const bytes = fitsToBytes([
          { data: null },
          { name: 'SCI', data, shape: [nx, ny], compression: tile ? { type, tile } : { type } },
        ]);
        const f = parseFits(bytes, { verifyChecksum: true });
        const hdu = f.image('SCI');
        expect(hdu.compression?.type).toBe(type);
        expect(hdu.shape).toEqual([nx, ny]);
        expect(hdu.data).toEqual(data);
        // The uncompressed header is reconstructed from the Z keywords.
        expect(hdu.header.get('XTENSION')).toBe('IMAGE');
        expect(hdu.header.get('NAXIS1')).toBe(nx);
        expect(hdu.header.has('ZCMPTYPE')).toBe(false);
        expect(hdu.header.has('TFORM1')).toBe(false);
        // The table itself carries the convention's keywords.
        const raw = parseFits(bytes, { decompress: false }).table('SCI');
        expect(raw.header.get('ZIMAGE')).toBe(true);
        expect(raw.header.get('ZCMPTYPE')).toBe(type);
        expect(raw.header.get('ZNAXIS2')).toBe(ny);
        expect(raw.header.get('ZTENSION')).toBe('IMAGE');
      });
    }
  }

  it('compresses: GZIP_2 beats raw size on smooth data, RICE_1 on small integers', () => {
    const smooth = new Float32Array(256 * 64).map((_, i) => Math.floor(i / 256));
    const gz = fitsToBytes([{ data: smooth, shape: [256, 64], compression: { type: 'GZIP_2' } }]);
    expect(gz.length).toBeLessThan(smooth.byteLength / 4);
    const ints = new Int32Array(256 * 64).map((_, i) => i % 5);
    const rice = fitsToBytes([{ data: ints, shape: [256, 64], compression: { type: 'RICE_1' } }]);
    expect(rice.length).toBeLessThan(ints.byteLength / 4);
  });

  it('refuses RICE_1 on floats and any compression of 64-bit integers', () => {
    expect(() =>
      fitsToBytes([{ data: new Float32Array(4), shape: [2, 2], compression: { type: 'RICE_1' } }]),
    ).toThrow(expect.objectContaining({ code: 'FITS_BAD_ARGUMENT', key: 'ZCMPTYPE' }));
    expect(() =>
      fitsToBytes([{ data: new BigInt64Array(4), shape: [2, 2], compression: { type: 'GZIP_2' } }]),
    ).toThrow(expect.objectContaining({ code: 'FITS_BAD_ARGUMENT' }));
  });

  it('keeps user cards and EXTNAME through compression', () => {
    const f = parseFits(
      fitsToBytes([
        { data: null },
        {
          name: 'IMAGE',
          data: new Float32Array(6),
          shape: [3, 2],
          compression: { type: 'GZIP_2' },
          header: wcsHeader(),
        },
      ]),
    );
    expect(f.image('IMAGE').header.get('CRVAL1')).toBe(10.5);
  });
});

function wcsHeader(): Header {
  const h = new Header();
  h.set('CRVAL1', 10.5);
  return h;
}

describe('corrupt compressed tiles', () => {
  it('a tile that does not decompress gives FITS_DECOMPRESS naming HDU and column', () => {
    const data = new Float32Array(64 * 8).map((_, i) => i);
    const bytes = fitsToBytes(
      [{ data: null }, { name: 'SCI', data, shape: [64, 8], compression: { type: 'GZIP_2' } }],
      {
        checksum: false,
      },
    );
    // Corrupt the heap: gzip streams start with 1f 8b; damage the deflate data after them.
    const text = Buffer.from(bytes);
    const at = text.indexOf(Buffer.from([0x1f, 0x8b]), 2880 * 2);
    for (let i = at + 10; i < at + 40; i++) bytes[i] = 0xff;
    expect(() => parseFits(bytes, { file: 'c.fits' })).toThrow(
      expect.objectContaining({ code: 'FITS_DECOMPRESS', file: 'c.fits', key: 'COMPRESSED_DATA' }),
    );
  });
});
