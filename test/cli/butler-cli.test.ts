/**
 * The `butler` command line as a user runs it (separate processes) on the committed tiny
 * simulated data: create, register-skymap, ingest-files, the queries (the spatial join
 * between CCDs and patches agrees with the coadd planner's, which works from WCSs),
 * chains, export/import, transfer, check, prune and remove, with SQLite and PostgreSQL.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { butlerCli } from '../../src/cli/butler.ts';
import { DiscreteSkyMap } from '../../src/geom/skymap.ts';
import { scanInputs } from '../../src/scheduler/inputs.ts';
import { planCoadds, skymapTargets } from '../../src/scheduler/plan.ts';
import { declareUnavailable, testDatabases } from '../butler/registry/databases.ts';
import { runBin, runInProcess } from '../helpers/cli.ts';

const root = new URL('../../', import.meta.url).pathname;
const fixtures = join(root, 'fixtures/sim');
const tmp = mkdtempSync(join(tmpdir(), 'gpu-drp-butler-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function butler(args: string[]) {
  return runBin('butler', args, { timeoutMs: 120_000 });
}

/** The same command in this process (no start-up cost per call). */
const butlerIn = (args: string[]) => runInProcess(butlerCli, args);

async function ok(args: string[]) {
  const r = await butlerIn(args);
  if (r.code !== 0) throw new Error(`butler ${args.join(' ')} -> ${r.code}\n${r.stderr}`);
  return r;
}

/** (patch, visit) pairs the coadd planner finds from the WCSs alone. */
async function plannedPairs(): Promise<string[]> {
  const cfg = JSON.parse(readFileSync(join(fixtures, 'skymap.json'), 'utf8'));
  const { kind: _k, name: _n, ...rest } = cfg;
  const skymap = new DiscreteSkyMap(rest);
  const { inputs } = await scanInputs([join(fixtures, 'calexp')]);
  const pairs: string[] = [];
  for (const u of planCoadds(inputs, skymapTargets(skymap))) {
    const m = /patch(\d+),(\d+)/.exec(u.target.key) as RegExpExecArray;
    const seq = Number(m[2]) * 3 + Number(m[1]);
    for (const v of u.visits) pairs.push(`${seq}:${v.visit}`);
  }
  return pairs.sort();
}

for (const db of testDatabases()) {
  describe(`butler CLI (${db.name})`, () => {
    if (declareUnavailable(db, 'butler-cli')) return;
    beforeAll(() => db.setup());
    afterAll(() => db.teardown());
    const repo = join(tmp, `repo-${db.name}`);
    let registryUrl = '';

    it('create, register-skymap, ingest-files; queries with where-clauses and the spatial join', async () => {
      registryUrl = db.name === 'sqlite' ? 'sqlite:gpu_drp.sqlite3' : await db.newUrl();
      await ok(['create', repo, '--registry', registryUrl]);
      expect(butler(['create', repo]).code).not.toBe(0); // never over an existing repository
      await ok(['register-skymap', repo, '-C', join(fixtures, 'skymap.json')]);
      const ing = await ok([
        'ingest-files',
        repo,
        'calexp',
        'run/ingest',
        join(fixtures, 'calexp'),
        '--instrument',
        'SimCam',
        '--json',
      ]);
      expect(JSON.parse(ing.stdout)).toHaveLength(8);
      // register-skymap also stored the sky map as the skyMap dataset pipelines read.
      const sm = JSON.parse(
        (await ok(['query-datasets', repo, 'skyMap', '--collections', 'skymaps', '--json'])).stdout,
      );
      expect(sm.map((r: { dataId: { skymap: string } }) => r.dataId.skymap)).toEqual(['sim-tiny']);

      const q = JSON.parse(
        (
          await ok([
            'query-datasets',
            repo,
            'calexp',
            '--collections',
            'run/ingest',
            '--where',
            'visit IN (1000..1003:2) AND detector = :d',
            '--bind',
            'd=1',
            '--json',
          ])
        ).stdout,
      );
      expect(q.map((r: { dataId: { visit: number } }) => r.dataId.visit).sort()).toEqual([
        1000, 1002,
      ]);
      expect(q[0].dataId).toMatchObject({ instrument: 'SimCam', detector: 1, band: 'r' });

      // The registry's spatial join (HTM index + exact polygons) against the planner's WCS mapping.
      const ids = JSON.parse(
        (
          await ok([
            'query-data-ids',
            repo,
            'patch',
            'visit',
            '--where',
            "skymap = 'sim-tiny'",
            '--json',
          ])
        ).stdout,
      ) as Array<{ patch: number; visit: number }>;
      const fromRegistry = [...new Set(ids.map((d) => `${d.patch}:${d.visit}`))].sort();
      expect(fromRegistry).toEqual(await plannedPairs());

      const recs = JSON.parse(
        (await ok(['query-dimension-records', repo, 'detector', '--json'])).stdout,
      ) as Array<{ id: number }>;
      expect(recs.map((r) => r.id).sort()).toEqual([0, 1]);

      // A malformed where-expression: exit 2 and a caret under the problem.
      const bad = butler([
        'query-datasets',
        repo,
        'calexp',
        '--collections',
        'run/ingest',
        '--where',
        'visit = = 3',
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/WHERE_SYNTAX.*\n.*visit = = 3\n\s+\^/);
      // An unknown name with a hint, and an injection attempt that is only ever a value.
      expect(
        butler([
          'query-datasets',
          repo,
          'calexp',
          '--collections',
          'run/ingest',
          '--where',
          'band = r',
        ]).stderr,
      ).toMatch(/single quotes/);
      const inj = JSON.parse(
        (
          await ok([
            'query-datasets',
            repo,
            'calexp',
            '--collections',
            'run/ingest',
            '--where',
            "band = 'r'' OR 1=1; DROP TABLE dataset; --'",
            '--json',
          ])
        ).stdout,
      );
      expect(inj).toEqual([]);
      expect(
        JSON.parse(
          (await ok(['query-datasets', repo, '--collections', 'run/ingest', '--json'])).stdout,
        ),
      ).toHaveLength(8);
    });

    it('collection-chain, export/import, transfer-datasets, check, prune-datasets, remove-runs', async () => {
      expect((await ok(['collection-chain', repo, 'chain/all', 'run/ingest'])).stdout.trim()).toBe(
        'run/ingest',
      );
      const cols = JSON.parse((await ok(['query-collections', repo, '--json'])).stdout) as Array<{
        name: string;
        type: string;
      }>;
      expect(cols.map((c) => `${c.name}:${c.type}`).sort()).toEqual([
        'chain/all:CHAINED',
        'run/ingest:RUN',
        'skymaps:RUN',
      ]);

      const file = join(tmp, `export-${db.name}.yaml`);
      const dir = join(tmp, `export-${db.name}`);
      await ok([
        'export',
        repo,
        file,
        '--dataset-type',
        'calexp',
        '--collections',
        'run/ingest',
        '--where',
        'visit = 1001',
        '--directory',
        dir,
      ]);
      const other = join(tmp, `other-${db.name}`);
      await ok(['create', other]);
      await ok(['import', other, file, '--directory', dir]);
      expect(
        JSON.parse(
          (await ok(['query-datasets', other, 'calexp', '--collections', 'run/ingest', '--json']))
            .stdout,
        ),
      ).toHaveLength(2);

      const third = join(tmp, `third-${db.name}`);
      await ok(['create', third]);
      const t = JSON.parse(
        (
          await ok([
            'transfer-datasets',
            repo,
            third,
            '--dataset-type',
            'calexp',
            '--collections',
            'run/ingest',
            '--json',
          ])
        ).stdout,
      );
      expect(t).toEqual({ transferred: 8, skipped: 0 });
      expect(
        JSON.parse(
          (
            await ok([
              'transfer-datasets',
              repo,
              third,
              '--dataset-type',
              'calexp',
              '--collections',
              'run/ingest',
              '--json',
            ])
          ).stdout,
        ),
      ).toEqual({ transferred: 0, skipped: 8 });

      // A leftover file (as a crash between the write and the registry insert leaves) is found and fixed.
      expect((await butlerIn(['check', third])).code).toBe(0);
      writeFileSync(join(third, 'run', 'stray.fits'), 'leftover');
      const chk = await butlerIn(['check', third, '--json']);
      expect(chk.code).toBe(1);
      expect(JSON.parse(chk.stdout).orphans.map((f: { path: string }) => f.path)).toEqual([
        'run/stray.fits',
      ]);
      expect((await butlerIn(['check', third, '--fix'])).code).toBe(0);
      expect((await butlerIn(['check', third])).code).toBe(0);

      await ok([
        'prune-datasets',
        third,
        'calexp',
        '--collections',
        'run/ingest',
        '--where',
        'detector = 0',
        '--purge',
      ]);
      expect(
        JSON.parse(
          (await ok(['query-datasets', third, 'calexp', '--collections', 'run/ingest', '--json']))
            .stdout,
        ),
      ).toHaveLength(4);
      await ok(['remove-runs', third, 'run/ingest']);
      expect(JSON.parse((await ok(['query-collections', third, '--json'])).stdout)).toEqual([]);
      expect((await butlerIn(['check', third])).code).toBe(0);
    });

    it('never prints a database password', () => {
      if (db.name !== 'postgres') return;
      const u = new URL(registryUrl);
      u.password = 's3cr3t-Pw';
      u.port = '1'; // nothing listens there
      const r = butler(['create', join(tmp, 'pw-repo'), '--registry', u.toString()]);
      expect(r.code).not.toBe(0);
      expect(r.stderr + r.stdout).not.toContain('s3cr3t-Pw');
    });
  });
}
