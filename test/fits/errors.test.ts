import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FitsError } from '../../src/fits/errors.ts';
import { Header } from '../../src/fits/header.ts';
import { fitsToBytes, parseFits } from '../../src/fits/index.ts';

function header(cards: string[]): Uint8Array {
  return Header.fromCardImages(cards.map((c) => c.padEnd(80, ' '))).toBytes();
}

function withData(head: Uint8Array, dataBytes: number): Uint8Array {
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head);
  return out;
}

const IMG = ['SIMPLE  = T', 'BITPIX  = 16', 'NAXIS   = 2', 'NAXIS1  = 100', 'NAXIS2  = 100'];

describe('bad input gives typed errors naming file, HDU and key', () => {
  it('truncated data: FITS_TRUNCATED', () => {
    const bytes = withData(header(IMG), 2880);
    expect(() => parseFits(bytes, { file: 'x.fits' })).toThrow(
      expect.objectContaining({ code: 'FITS_TRUNCATED', file: 'x.fits', hdu: 0, key: 'NAXIS' }),
    );
  });

  it('NAXISn far beyond the file: no allocation, FITS_TRUNCATED', () => {
    const bytes = withData(
      header([
        'SIMPLE  = T',
        'BITPIX  = -64',
        'NAXIS   = 2',
        'NAXIS1  = 200000',
        'NAXIS2  = 20000',
      ]),
      0,
    );
    expect(() => parseFits(bytes)).toThrow(expect.objectContaining({ code: 'FITS_TRUNCATED' }));
  });

  it('absurd sizes: FITS_BAD_SIZE', () => {
    const huge = header([
      'SIMPLE  = T',
      'BITPIX  = 8',
      'NAXIS   = 3',
      'NAXIS1  = 99999999999',
      'NAXIS2  = 99999999999',
      'NAXIS3  = 9999999',
    ]);
    expect(() => parseFits(huge)).toThrow(expect.objectContaining({ code: 'FITS_BAD_SIZE' }));
    const negative = header(['SIMPLE  = T', 'BITPIX  = 8', 'NAXIS   = 1', 'NAXIS1  = -5']);
    expect(() => parseFits(negative)).toThrow(
      expect.objectContaining({ code: 'FITS_BAD_SIZE', key: 'NAXIS1' }),
    );
    const big = header([
      'SIMPLE  = T',
      'BITPIX  = 8',
      'NAXIS   = 1',
      'NAXIS1  = 99999999999999999999',
    ]);
    expect(() => parseFits(big)).toThrow(
      expect.objectContaining({ code: 'FITS_BAD_SIZE', key: 'NAXIS1' }),
    );
  });

  it('unknown BITPIX: FITS_BAD_BITPIX', () => {
    const bytes = header(['SIMPLE  = T', 'BITPIX  = 12', 'NAXIS   = 0']);
    expect(() => parseFits(bytes, { file: 'b.fits' })).toThrow(
      expect.objectContaining({ code: 'FITS_BAD_BITPIX', key: 'BITPIX', file: 'b.fits' }),
    );
  });

  it('no END card: FITS_NO_END', () => {
    const bytes = new Uint8Array(2880 * 2).fill(0x20);
    bytes.set(Buffer.from('SIMPLE  =                    T'));
    expect(() => parseFits(bytes)).toThrow(
      expect.objectContaining({ code: 'FITS_NO_END', hdu: 0 }),
    );
  });

  it('not FITS at all / empty: FITS_BAD_HEADER / FITS_TRUNCATED', () => {
    expect(() => parseFits(new Uint8Array(2880).fill(65))).toThrow(
      expect.objectContaining({ code: 'FITS_BAD_HEADER', key: 'SIMPLE' }),
    );
    expect(() => parseFits(new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'FITS_TRUNCATED' }),
    );
    expect(() => parseFits(new Uint8Array(100))).toThrow(
      expect.objectContaining({ code: 'FITS_TRUNCATED' }),
    );
  });

  it('garbage after the last HDU is refused, zero padding is accepted', () => {
    const good = fitsToBytes([{ data: Uint8Array.from([1]), shape: [1] }]);
    const padded = new Uint8Array(good.length + 2880);
    padded.set(good);
    expect(parseFits(padded).hdus).toHaveLength(1);
    padded.fill(0x41, good.length);
    expect(() => parseFits(padded)).toThrow(
      expect.objectContaining({ code: 'FITS_BAD_HEADER', hdu: 1, key: 'XTENSION' }),
    );
  });

  it('unparseable structural cards: FITS_BAD_HEADER with file and HDU', () => {
    const bytes = header(['SIMPLE  = T', 'BITPIX  = 16!', 'NAXIS   = 0']);
    expect(() => parseFits(bytes, { file: 'h.fits' })).toThrow(
      expect.objectContaining({ code: 'FITS_BAD_HEADER', file: 'h.fits', hdu: 0, key: 'BITPIX' }),
    );
  });

  it('messages say where and what to do', () => {
    try {
      parseFits(withData(header(IMG), 100), { file: 'calexp.fits' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FitsError);
      expect((e as Error).message).toMatch(/^calexp\.fits, HDU 0, key NAXIS: .*truncated/);
    }
  });
});

/** Mulberry32: a small seeded PRNG so the fuzz cases are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FUZZ_FILES = [
  'fixtures/fits/astropy/checksum.fits',
  'fixtures/fits/astropy/comp.fits',
  'fixtures/fits/astropy/variable_length_table.fits',
  'fixtures/fits/astropy/btable.fits',
  'fixtures/fits/astropy/tdim.fits',
  'fixtures/fits/astropy/scale.fits',
  'fixtures/fits/astropy/o4sp040b0_raw.fits',
  'fixtures/fits/ref/fpack-rice-f32-dither1.fits',
  'fixtures/fits/ref/fpack-plio-i16.fits',
  'fixtures/fits/ref/fpack-gzip2-f32-dither1-tiles.fits',
  'fixtures/fits/ref/bintable.fits',
  'fixtures/fits/written/ours-compressed.fits',
];

describe('fuzz: truncated and bit-flipped files give FitsError or success', () => {
  for (const file of FUZZ_FILES) {
    it(file, () => {
      const original = new Uint8Array(readFileSync(file));
      const rand = mulberry32(0x5eed + original.length);
      let failures = 0;
      const tries = Number(process.env.FITS_FUZZ_TRIES ?? 120);
      for (let i = 0; i < tries; i++) {
        const bytes = original.slice();
        let input: Uint8Array;
        if (i % 3 === 0) {
          input = bytes.subarray(0, Math.floor(rand() * bytes.length));
        } else {
          const flips = 1 + Math.floor(rand() * 8);
          for (let k = 0; k < flips; k++) {
            // Bias half the flips into headers, where structure lives.
            const at =
              rand() < 0.5
                ? Math.floor(rand() * Math.min(bytes.length, 5760))
                : Math.floor(rand() * bytes.length);
            bytes[at]! ^= 1 << Math.floor(rand() * 8);
          }
          input = bytes;
        }
        try {
          parseFits(input, { verifyChecksum: i % 2 === 0 });
        } catch (e) {
          if (!(e instanceof FitsError))
            throw new Error(`case ${i}: non-FitsError ${String(e)}`, { cause: e });
          failures++;
        }
      }
      // Truncation alone guarantees some failures; all of them were FitsErrors.
      expect(failures).toBeGreaterThan(0);
    });
  }
});
