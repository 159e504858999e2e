/**
 * Test repositories from the committed tiny fixtures (fixtures/sim: 4 visits x 2 CCDs, a
 * 3x3-patch sky map), made with the `butler` CLI as a user would, on SQLite or on a
 * PostgreSQL registry.
 */

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { butlerCli } from '../../../src/cli/butler.ts';

/** The project root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The test pipeline. */
export const TEST_PIPELINE = join(ROOT, 'test/pipe/graph/pipelines/coadd-test.yaml');

async function butler(args: string[]): Promise<void> {
  const saved = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await butlerCli(args);
  } finally {
    process.stderr.write = saved;
  }
  const code = process.exitCode;
  process.exitCode = 0;
  if (code !== 0 && code !== undefined) throw new Error(`butler ${args.join(' ')} exited ${code}`);
}

/** Creates a repository at `dir` with the sky map and the 8 calexps in run `run/in`. */
export async function makeFixtureRepo(dir: string, registryUrl?: string): Promise<void> {
  await butler(['create', dir, ...(registryUrl ? ['--registry', registryUrl] : [])]);
  await butler(['register-skymap', dir, '-C', join(ROOT, 'fixtures/sim/skymap.json')]);
  await butler([
    'ingest-files',
    dir,
    'calexp',
    'run/in',
    join(ROOT, 'fixtures/sim/calexp'),
    '--instrument',
    'SimCam',
  ]);
}
