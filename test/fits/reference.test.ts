/**
 * Compares the reader with astropy/CFITSIO on the reference files made by
 * scripts/make-fits-fixtures.py (expected values in fixtures/fits/ref/expected.json).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readFits } from '../../src/fits/index.ts';
import { expectHdu, type HduExpect } from './expect-hdus.ts';

const REF = 'fixtures/fits/ref';
const expected = JSON.parse(readFileSync(`${REF}/expected.json`, 'utf8')) as Record<
  string,
  HduExpect[]
>;

describe('reference files from astropy and fpack', () => {
  for (const [file, hdus] of Object.entries(expected)) {
    it(file, async () => {
      const f = await readFits(`${REF}/${file}`, { verifyChecksum: true });
      expect(f.hdus).toHaveLength(hdus.length);
      hdus.forEach((e, i) => {
        expectHdu(f.hdus[i]!, e);
      });
    });
  }
});
