import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeChecksum, onesComplementSum } from '../../src/fits/checksum.ts';
import { fitsToBytes, parseFits } from '../../src/fits/index.ts';

describe('ones complement checksum', () => {
  it('adds big-endian words with end-around carry', () => {
    expect(onesComplementSum(Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 2]))).toBe(3);
    expect(onesComplementSum(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]))).toBe(1);
    expect(onesComplementSum(Uint8Array.from([0x80, 0, 0, 0, 0x80, 0, 0, 0]))).toBe(1);
    // Unaligned views and partial words (padded with zeros) give the same sums.
    const buf = new Uint8Array(9);
    buf.set([0x12, 0x34, 0x56, 0x78, 0x9a], 1);
    expect(onesComplementSum(buf.subarray(1, 6))).toBe(0x12345678 + 0x9a000000);
  });

  it('encodes as the convention (the example of the FITS checksum paper: 0 -> "0000000000000000" complement)', () => {
    // The encoded complement of a zero sum is all 'o'/'r'; of 0xffffffff is all '0'.
    expect(encodeChecksum(0xffffffff)).toBe('0000000000000000');
    expect(encodeChecksum(0)).toBe('orrrrooooooooooo');
    for (const ch of encodeChecksum(0x12345678)) expect(/[0-9A-Za-z]/.test(ch)).toBe(true);
  });
});

describe('CHECKSUM / DATASUM', () => {
  it('verifies astropy-written checksums and rejects the deliberately wrong file', () => {
    expect(() =>
      parseFits(readFileSync('fixtures/fits/astropy/checksum.fits'), { verifyChecksum: true }),
    ).not.toThrow();
    expect(() =>
      parseFits(readFileSync('fixtures/fits/astropy/checksum_false.fits'), {
        verifyChecksum: true,
        file: 'checksum_false.fits',
      }),
    ).toThrow(
      expect.objectContaining({ code: 'FITS_CHECKSUM', file: 'checksum_false.fits', hdu: 0 }),
    );
    // Without verification the file reads.
    expect(parseFits(readFileSync('fixtures/fits/astropy/checksum_false.fits')).hdus).toHaveLength(
      2,
    );
  });

  it('writes checksums by default that make each HDU sum to -0', () => {
    const bytes = fitsToBytes([{ data: Int16Array.from([1, 2, 3]), shape: [3] }]);
    const f = parseFits(bytes, { verifyChecksum: true });
    expect(f.hdus[0]!.header.get('DATASUM')).toBe(String(onesComplementSum(bytes.subarray(2880))));
    expect(onesComplementSum(bytes)).toBe(0xffffffff);
    expect(fitsToBytes([{ data: null }], { checksum: false }).includes(0x43)).toBe(false);
  });

  it('detects a flipped data bit (DATASUM) and a changed header (CHECKSUM)', () => {
    const bytes = fitsToBytes([{ data: Float32Array.from([1, 2, 3]), shape: [3] }]);
    const data = bytes.slice();
    data[2880 + 5]! ^= 4;
    expect(() => parseFits(data, { verifyChecksum: true })).toThrow(
      expect.objectContaining({ code: 'FITS_CHECKSUM', key: 'DATASUM' }),
    );
    const head = bytes.slice();
    head[80 * 1 + 40]! ^= 1; // inside the BITPIX comment
    expect(() => parseFits(head, { verifyChecksum: true })).toThrow(
      expect.objectContaining({ code: 'FITS_CHECKSUM', key: 'CHECKSUM' }),
    );
  });
});
