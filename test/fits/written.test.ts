/**
 * Files written by this project and checked with astropy and funpack by
 * scripts/make-fits-fixtures.py (fixtures/fits/written/). The reader must return what
 * the writer was given, and the writer must still produce these files.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readFits } from '../../src/fits/index.ts';
import { canonicalSha } from './canonical-sha.ts';

const DIR = 'fixtures/fits/written';
const expected = JSON.parse(readFileSync(`${DIR}/expected-ours.json`, 'utf8')) as Record<
  string,
  { hdus?: { sha256: string | null; dtype: string | null; header: Record<string, unknown> }[] }
>;

describe('files written by this project (validated by astropy)', () => {
  for (const [file, exp] of Object.entries(expected)) {
    if (!exp.hdus) continue;
    it(file, async () => {
      const f = await readFits(`${DIR}/${file}`, { verifyChecksum: true });
      expect(f.hdus).toHaveLength(exp.hdus!.length);
      exp.hdus!.forEach((e, i) => {
        const hdu = f.hdus[i]!;
        expect(hdu.type).toBe('image');
        if (hdu.type !== 'image') return;
        if (e.sha256 === null) {
          expect(hdu.data).toBeNull();
        } else {
          expect(hdu.data!.constructor.name).toBe(e.dtype);
          expect(canonicalSha(hdu.data!)).toBe(e.sha256);
        }
        for (const [k, v] of Object.entries(e.header)) {
          const want =
            v && typeof v === 'object' && 'bigint' in v
              ? BigInt((v as { bigint: string }).bigint)
              : v;
          expect(hdu.header.get(k), k).toEqual(want);
        }
      });
    });
  }

  it('ours-table.fits columns', async () => {
    const t = (await readFits(`${DIR}/ours-table.fits`, { verifyChecksum: true })).table('CAT');
    const col = (name: string) => t.columns.find((c) => c.name === name)!;
    expect(t.nrows).toBe(4);
    expect(col('flag').data).toEqual([true, false, null, true]);
    expect(col('b').null).toBe(255);
    expect(col('i').unit).toBe('adu');
    expect(col('j').data).toEqual(Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(col('j').repeat).toBe(2);
    expect(col('u').data).toEqual(Uint16Array.from([0, 1, 40000, 65535]));
    expect(col('name').data).toEqual(['alpha', 'b', '', "it's"]);
    expect(col('vla').data).toEqual([
      Int32Array.from([1, 2]),
      new Int32Array(0),
      Int32Array.from([3]),
      Int32Array.from([4, 5, 6]),
    ]);
  });
});
