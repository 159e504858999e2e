/**
 * Regenerates fixtures/sim: the simulator's `tiny` preset (4 visits x 2 CCDs of
 * 256 x 256, seed 1, GZIP_2 calexps). Byte-deterministic: rerunning it changes nothing.
 *
 *   node --import tsx scripts/make-sim-fixtures.ts [outDir]    (default fixtures/sim)
 */

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulate } from '../src/sim/index.ts';

// The configuration of the committed fixture (also in fixtures/sim/README.md).
const FIXTURE_CONFIG = { preset: 'tiny', seed: 1 } as const;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? join(root, 'fixtures', 'sim'));
const result = await simulate(FIXTURE_CONFIG, { outDir });
process.stdout.write(
  `wrote ${result.calexps.length} calexps, truth, skymap and manifest to ${outDir} in ${result.seconds.toFixed(1)} s\n`,
);
