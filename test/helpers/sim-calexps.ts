/** Simulated calexps read back and grouped by visit (tests that build coadds by hand). */
import { join } from 'node:path';
import type { Exposure } from '../../src/image/exposure.ts';
import { readExposure } from '../../src/image/exposure-fits.ts';

/** Read `calexps` (paths relative to `dir`) and group them by visit, visits in order. */
export async function calexpsByVisit(
  dir: string,
  calexps: ReadonlyArray<{ readonly path: string }>,
): Promise<Exposure[][]> {
  const byVisit = new Map<number, Exposure[]>();
  for (const c of calexps) {
    const e = await readExposure(join(dir, c.path));
    const v = e.visitInfo?.visit ?? -1;
    byVisit.set(v, [...(byVisit.get(v) ?? []), e]);
  }
  return [...byVisit.entries()].sort((a, b) => a[0] - b[0]).map(([, es]) => es);
}
