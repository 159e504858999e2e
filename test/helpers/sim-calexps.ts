/** Simulated calexps read back and grouped by visit (tests that build coadds by hand). */
import { readFileSync } from 'node:fs';
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

/** A truth source of the simulator (truth/sources.csv): type, position (deg), flux (nJy). */
export interface TruthSource {
  readonly type: string;
  readonly ra: number;
  readonly dec: number;
  readonly flux: number;
}

/** The simulator's truth catalog (CSV with a header line). */
export function readTruth(path: string): TruthSource[] {
  const csv = readFileSync(path, 'utf8').trim().split('\n');
  const head = (csv[0] as string).split(',');
  return csv.slice(1).map((line) => {
    const f = line.split(',');
    const col = (n: string) => f[head.indexOf(n)] as string;
    return {
      type: col('type'),
      ra: Number(col('ra_deg')),
      dec: Number(col('dec_deg')),
      flux: Number(col('flux_njy')),
    };
  });
}
