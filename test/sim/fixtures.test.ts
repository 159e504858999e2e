import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExposure } from '../../src/image/exposure-fits.ts';

const run = promisify(execFile);
const fixtureDir = join(import.meta.dirname, '..', '..', 'fixtures', 'sim');

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.filter((f) => f !== 'README.md').sort();
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

describe('fixtures/sim', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'sim-fixture-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('is reproduced byte for byte by scripts/make-sim-fixtures.ts', async () => {
    await run(process.execPath, ['--import', 'tsx', 'scripts/make-sim-fixtures.ts', tmp], {
      cwd: join(import.meta.dirname, '..', '..'),
    });
    const committed = await listFiles(fixtureDir);
    const regenerated = await listFiles(tmp);
    expect(regenerated).toEqual(committed);
    expect(committed.filter((f) => f.endsWith('.fits')).length).toBe(8);
    for (const f of committed) {
      expect(await sha256(join(tmp, f)), f).toBe(await sha256(join(fixtureDir, f)));
    }
    const manifest = JSON.parse(await readFile(join(fixtureDir, 'manifest.json'), 'utf8')) as {
      datasets: { calexp: { path: string; sha256: string }[] };
    };
    for (const c of manifest.datasets.calexp) {
      expect(await sha256(join(fixtureDir, c.path)), c.path).toBe(c.sha256);
    }
  });

  it('holds readable calexps in nJy with the documented components', async () => {
    const exp = await readExposure(join(fixtureDir, 'calexp/1002/calexp_SimCam_r_1002_001.fits'));
    expect(exp.width).toBe(256);
    expect(exp.visitInfo?.visit).toBe(1002);
    expect(exp.visitInfo?.detector).toBe(1);
    expect(exp.photoCalib?.calibrationMean).toBe(1);
    expect(exp.psf?.kind).toBe('image');
    expect(exp.wcs?.hasSip).toBe(true);
    expect(exp.metadata.get('BUNIT')).toBe('nJy');
    expect(exp.mask.planes.planes.BAD).toBe(0);
  });
});
