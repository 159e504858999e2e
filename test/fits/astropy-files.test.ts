/**
 * The reader on astropy's own test files (fixtures/fits/astropy, copied unchanged; see
 * its README), compared with what astropy reads (expected.json, made by
 * scripts/make-fits-fixtures.py). Files astropy itself cannot read must give a
 * FitsError or agree where we can read them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FitsError } from '../../src/fits/errors.ts';
import { readFits } from '../../src/fits/index.ts';
import { expectHdu, type HduExpect } from './expect-hdus.ts';

const DIR = 'fixtures/fits/astropy';
const expected = JSON.parse(readFileSync(`${DIR}/expected.json`, 'utf8')) as Record<
  string,
  HduExpect[] | { astropy_error: string }
>;

/** Files whose DATASUM/CHECKSUM are wrong on disk (astropy reports the same). */
const BAD_CHECKSUM = new Set(['checksum_false.fits', 'chandra_time.fits', 'memtest.fits']);

describe('astropy test files', () => {
  for (const [file, e] of Object.entries(expected)) {
    it(file, async () => {
      const path = `${DIR}/${file}`;
      if (!Array.isArray(e)) {
        // astropy cannot read it; we either read it or refuse it with a FitsError.
        try {
          await readFits(path);
        } catch (err) {
          expect(err).toBeInstanceOf(FitsError);
        }
        return;
      }
      const f = await readFits(path, { verifyChecksum: !BAD_CHECKSUM.has(file) });
      expect(f.hdus).toHaveLength(e.length);
      e.forEach((h, i) => {
        expectHdu(f.hdus[i]!, h);
      });
      if (BAD_CHECKSUM.has(file)) {
        await expect(readFits(path, { verifyChecksum: true })).rejects.toMatchObject({
          code: 'FITS_CHECKSUM',
        });
      }
    });
  }
});
