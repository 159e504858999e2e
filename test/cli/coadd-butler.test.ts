/**
 * `gpu-coadd run --butler`: a repository made from the tiny fixtures with the butler CLI
 * (create, register-skymap, ingest-files), coadded into an output run; the outputs are
 * queryable datasets equal to what file mode writes for the same calexps and sky map.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Butler } from '../../src/butler/butler.ts';
import { parquetCatalogFormatter } from '../../src/butler/datastore/formatters/index.ts';
import type { Catalog } from '../../src/catalog/table.ts';
import type { Exposure } from '../../src/image/exposure.ts';
import { readExposure } from '../../src/image/exposure-fits.ts';
import { runBin } from '../helpers/cli.ts';

const root = new URL('../../', import.meta.url).pathname;
const fixtures = join(root, 'fixtures/sim');
const tmp = mkdtempSync(join(tmpdir(), 'gpu-drp-coadd-butler-'));
const repo = join(tmp, 'repo');
const files = join(tmp, 'files');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(bin: 'gpu-coadd' | 'butler', args: string[]) {
  return runBin(bin, args, { env: { GPU_DRP_BACKEND: 'cpu' } });
}

function ok(r: ReturnType<typeof cli>) {
  expect(r.code, r.stderr).toBe(0);
  return r;
}

const skymapJson = join(fixtures, 'skymap.json');
const common = ['--skymap', skymapJson, '--backend', 'cpu', '--threads', '2'];

function bytesOf(a: Float32Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

interface Summary {
  outputRun: string;
  units: Array<{
    target: string;
    band: string;
    skipped?: boolean;
    sources?: number;
    visits?: Array<{ visit: number }>;
    files?: Record<string, string>;
  }>;
}

describe('gpu-coadd run --butler', () => {
  let first: Summary;
  beforeAll(() => {
    ok(cli('butler', ['create', repo]));
    ok(cli('butler', ['register-skymap', repo, '-C', skymapJson]));
    ok(
      cli('butler', [
        'ingest-files',
        repo,
        'calexp',
        'run/in',
        join(fixtures, 'calexp'),
        '--instrument',
        'SimCam',
      ]),
    );
    ok(cli('gpu-coadd', ['run', join(fixtures, 'calexp'), ...common, '--out', files]));
    const r = ok(
      cli('gpu-coadd', [
        'run',
        '--butler',
        repo,
        '--collections',
        'run/in',
        '--output-run',
        'coadd/all',
        ...common,
        '--json',
      ]),
    );
    first = JSON.parse(r.stdout) as Summary;
  }, 600_000);

  it('puts every patch coadd into the output run, equal to the file-mode outputs', async () => {
    expect(first.outputRun).toBe('coadd/all');
    expect(first.units).toHaveLength(9);
    const b = await Butler.open(repo, { collections: ['coadd/all'] });
    try {
      const refs = await b.queryDatasets('deepCoadd_calexp');
      expect(refs).toHaveLength(9);
      expect(await b.queryDatasets('deepCoadd')).toHaveLength(9);
      expect(await b.queryDatasets('deepCoadd_coverage')).toHaveLength(9);
      const patchKey = (tract: number, patch: number) => {
        const x = patch % 3;
        const y = Math.floor(patch / 3);
        return `tract${tract}/patch${x},${y}`;
      };
      let sources = 0;
      for (const ref of refs) {
        const { tract, patch, band } = ref.dataId as { tract: number; patch: number; band: string };
        const dir = join(files, patchKey(tract, patch), band);
        const file = await readExposure(join(dir, 'coadd.fits'));
        const calexp = await b.get<Exposure>(ref);
        expect(bytesOf(calexp.image.data).equals(bytesOf(file.image.data))).toBe(true);
        expect(bytesOf(calexp.mask.data).equals(bytesOf(file.mask.data))).toBe(true);
        expect(bytesOf(calexp.variance.data).equals(bytesOf(file.variance.data))).toBe(true);
        const coadd = await b.get<Exposure>('deepCoadd', ref.dataId);
        expect(bytesOf(coadd.image.data).equals(bytesOf(file.image.data))).toBe(true);
        const coverage = await b.get<Uint8Array>('deepCoadd_coverage', ref.dataId);
        expect(Buffer.from(coverage).equals(readFileSync(join(dir, 'coverage.fits')))).toBe(true);
        const cat = await b.get<Catalog>('deepCoadd_meas', ref.dataId);
        const fileCat = await parquetCatalogFormatter.fromFile(join(dir, 'sources.parquet'));
        expect(cat.length).toBe(fileCat.length);
        for (const c of fileCat.columns) {
          expect(Array.from(cat.column(c.name).data as ArrayLike<unknown>), c.name).toEqual(
            Array.from(c.data as ArrayLike<unknown>),
          );
        }
        sources += cat.length;
      }
      expect(sources).toBeGreaterThan(50);
    } finally {
      await b.close();
    }
  });

  it('a second run skips the finished patches; --where narrows the calexps', () => {
    const again = JSON.parse(
      ok(
        cli('gpu-coadd', [
          'run',
          '--butler',
          repo,
          '--collections',
          'run/in',
          '--output-run',
          'coadd/all',
          ...common,
          '--json',
        ]),
      ).stdout,
    ) as Summary;
    expect(again.units.every((u) => u.skipped === true)).toBe(true);
    const some = JSON.parse(
      ok(
        cli('gpu-coadd', [
          'run',
          '--butler',
          repo,
          '--collections',
          'run/in',
          '--where',
          'visit IN (1000, 1001)',
          '--output-run',
          'coadd/some',
          ...common,
          '--tract',
          '0',
          '--json',
        ]),
      ).stdout,
    ) as Summary;
    const visits = new Set(some.units.flatMap((u) => (u.visits ?? []).map((v) => v.visit)));
    expect([...visits].sort()).toEqual([1000, 1001]);
  });

  it('usage errors: no collections, inputs given with --butler', () => {
    const noColl = cli('gpu-coadd', ['run', '--butler', repo, ...common]);
    expect(noColl.code).toBe(2);
    expect(noColl.stderr).toMatch(/--collections/);
    const both = cli('gpu-coadd', [
      'run',
      join(fixtures, 'calexp'),
      '--butler',
      repo,
      '--collections',
      'run/in',
      ...common,
    ]);
    expect(both.code).toBe(2);
  });
});
