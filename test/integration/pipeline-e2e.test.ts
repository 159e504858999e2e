/**
 * End to end through the command lines, on SQLite and PostgreSQL registries: `butler create` ->
 * `register-skymap` -> `ingest-files` (the tiny calexps) -> `pipetask qgraph` (the coadd
 * pipeline, tasks/pipelines/coadd.yaml, on patches 3 and 4) -> `pipetask run -j 2`; the outputs
 * are queryable and equal to `gpu-coadd run` (file mode) on the same files and sky map. The same
 * pipeline executed as two `gpu-job`s over disjoint quantum subsets followed by
 * `butler aggregate-graph` registers the same contents.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Butler } from '../../src/butler/butler.ts';
import { parquetCatalogFormatter } from '../../src/butler/datastore/formatters/index.ts';
import type { Catalog } from '../../src/catalog/table.ts';
import type { Exposure } from '../../src/image/exposure.ts';
import { readExposure } from '../../src/image/exposure-fits.ts';
import { QuantumGraphReader } from '../../src/pipe/graph/index.ts';
import { declareUnavailable, testDatabases } from '../butler/registry/databases.ts';
import { runBin } from '../helpers/cli.ts';

const root = new URL('../../', import.meta.url).pathname;
const fixtures = join(root, 'fixtures/sim');
const skymapJson = join(fixtures, 'skymap.json');
const PATCHES = [3, 4];

function cli(bin: string, args: string[]) {
  return runBin(bin, args, { env: { GPU_DRP_BACKEND: 'cpu' }, timeoutMs: 600_000 });
}

function ok(r: ReturnType<typeof cli>) {
  expect(r.code, r.stderr).toBe(0);
  return r;
}

const bytesOf = (a: Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const tmp = mkdtempSync(join(tmpdir(), 'gpu-drp-pipeline-e2e-'));
const files = join(tmp, 'files');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => {
  ok(
    cli('gpu-coadd', [
      'run',
      join(fixtures, 'calexp'),
      ...['--skymap', skymapJson, '--backend', 'cpu', '--threads', '2', '--out', files],
    ]),
  );
}, 600_000);

/** Every output dataset of a run: "type dataId" -> comparable content. */
async function contents(repo: string, run: string): Promise<Map<string, string>> {
  const b = await Butler.open(repo);
  try {
    const out = new Map<string, string>();
    for (const t of ['directWarp', 'deepCoadd', 'deepCoadd_calexp', 'deepCoadd_meas']) {
      for (const ref of await b.registry.queryDatasets(t, { collections: [run] })) {
        const { visit, patch } = ref.dataId;
        const v = await b.get(ref);
        let digest: string;
        if (t === 'deepCoadd_meas') {
          const cat = v as Catalog;
          digest = JSON.stringify(
            cat.columns.map((c) => [c.name, Array.from(c.data as ArrayLike<unknown>)]),
            (_k, x) => (typeof x === 'bigint' ? x.toString() : x),
          );
        } else {
          digest = bytesOf((v as Exposure).image.data).toString('base64');
        }
        out.set(`${t} ${visit ?? '-'} ${patch}`, digest);
      }
    }
    return out;
  } finally {
    await b.close();
  }
}

describe.each(testDatabases())('coadd pipeline end to end ($name)', (db) => {
  if (declareUnavailable(db, 'pipeline-e2e')) return;
  const repo = join(tmp, `repo-${db.name}`);
  let runA = '';
  beforeAll(async () => {
    await db.setup();
    const reg = db.name === 'sqlite' ? [] : ['--registry', await db.newUrl()];
    ok(cli('butler', ['create', repo, ...reg]));
    ok(cli('butler', ['register-skymap', repo, '-C', skymapJson]));
    ok(
      cli('butler', [
        'ingest-files',
        ...[repo, 'calexp', 'run/in', join(fixtures, 'calexp'), '--instrument', 'SimCam'],
      ]),
    );
  }, 600_000);
  afterAll(() => db.teardown());

  const common = (out: string[]) => [
    ...['-b', repo, '-i', 'run/in,skymaps', ...out, '-p', 'tasks/pipelines/coadd.yaml'],
    ...['-d', `patch IN (${PATCHES.join(', ')})`],
  ];

  it('pipetask qgraph + run -j 2: outputs queryable and equal to gpu-coadd run', async () => {
    const graph = join(tmp, `a-${db.name}.qg`);
    ok(cli('pipetask', ['qgraph', ...common(['-o', 'u/e2e']), '--save-qgraph', graph]));
    ok(cli('pipetask', ['run', '-b', repo, '-g', graph, '-j', '2', '--register-dataset-types']));
    const reader = await QuantumGraphReader.open(graph);
    runA = reader.header.outputRun;
    await reader.close();
    const b = await Butler.open(repo);
    try {
      const refs = await b.registry.queryDatasets('deepCoadd_calexp', {
        collections: [runA],
      });
      expect(refs.map((r) => r.dataId.patch).sort()).toEqual(PATCHES);
      let sources = 0;
      for (const ref of refs) {
        const patch = ref.dataId.patch as number;
        const dir = join(
          files,
          `tract${ref.dataId.tract}/patch${patch % 3},${Math.floor(patch / 3)}`,
          ref.dataId.band as string,
        );
        const file = await readExposure(join(dir, 'coadd.fits'));
        const calexp = await b.get<Exposure>(ref);
        expect(bytesOf(calexp.image.data).equals(bytesOf(file.image.data))).toBe(true);
        expect(bytesOf(calexp.variance.data).equals(bytesOf(file.variance.data))).toBe(true);
        const cat = await b.get<Catalog>('deepCoadd_meas', ref.dataId, { collections: [runA] });
        const fileCat = await parquetCatalogFormatter.fromFile(join(dir, 'sources.parquet'));
        expect(cat.length).toBe(fileCat.length);
        for (const c of fileCat.columns) {
          expect(Array.from(cat.column(c.name).data as ArrayLike<unknown>), c.name).toEqual(
            Array.from(c.data as ArrayLike<unknown>),
          );
        }
        sources += cat.length;
      }
      expect(sources).toBeGreaterThan(5);
    } finally {
      await b.close();
    }
  }, 900_000);

  it('gpu-job over two disjoint subsets + butler aggregate-graph registers the same contents', async () => {
    const graph = join(tmp, `b-${db.name}.qg`);
    ok(
      cli('pipetask', [
        'qgraph',
        ...common(['--output-run', 'u/e2e/jobs']),
        '--save-qgraph',
        graph,
      ]),
    );
    const reader = await QuantumGraphReader.open(graph);
    const nodes = await reader.nodes();
    await reader.close();
    const warps = nodes.filter((n) => n.label === 'makeDirectWarp').map((n) => n.id);
    const rest = nodes.filter((n) => n.label !== 'makeDirectWarp').map((n) => n.id);
    ok(cli('gpu-job', [graph, '--repo', repo, '--quanta', warps.join(','), '--backend', 'cpu']));
    ok(cli('gpu-job', [graph, '--repo', repo, '--quanta', rest.join(','), '--backend', 'cpu']));
    ok(cli('butler', ['aggregate-graph', repo, graph, '--register-dataset-types']));
    const a = await contents(repo, runA);
    const b = await contents(repo, 'u/e2e/jobs');
    expect(a.size).toBe(warps.length + 3 * PATCHES.length);
    expect(b).toEqual(a);
  }, 900_000);
});
