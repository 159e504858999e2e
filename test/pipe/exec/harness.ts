/**
 * Shared setup of the executor tests: a fixture repository, a saved graph of the test pipeline
 * (with config overrides), and a summary of what a run registered.
 */

import { dirname, join } from 'node:path';
import { Butler } from '../../../src/butler/butler.ts';
import { buildQuantumGraph, saveQuantumGraph } from '../../../src/pipe/graph/index.ts';
import { Pipeline, parseConfigOption } from '../../../src/pipe/index.ts';
import { TEST_PIPELINE } from '../graph/repo.ts';

/** Builds and saves a graph of the test pipeline; returns its path and quanta count. */
export async function saveTestGraph(
  repo: string,
  file: string,
  o: { run: string; overrides?: string[]; where?: string; output?: string },
): Promise<{ path: string; quanta: number }> {
  const butler = await Butler.open(repo);
  try {
    const p = Pipeline.fromFile(TEST_PIPELINE);
    await p.importTasks({ baseDir: dirname(TEST_PIPELINE) });
    const pg = p.toGraph({
      universe: butler.registry.universe,
      overrides: (o.overrides ?? []).map(parseConfigOption),
    });
    const g = await buildQuantumGraph(butler.registry, pg, {
      inputCollections: ['run/in'],
      outputRun: o.run,
      pipelineDir: dirname(TEST_PIPELINE),
      ...(o.where ? { where: o.where } : {}),
      ...(o.output ? { output: o.output } : {}),
    });
    await saveQuantumGraph(g, file);
    return { path: file, quanta: g.size };
  } finally {
    await butler.close();
  }
}

/** `type dataId -> value` of every dataset of the test outputs in `run` (values read back). */
export async function runContents(repo: string, run: string): Promise<Map<string, unknown>> {
  const butler = await Butler.open(repo);
  try {
    const out = new Map<string, unknown>();
    for (const t of ['testWarp', 'testCoadd', 'testCatalog']) {
      let refs: Awaited<ReturnType<typeof butler.registry.queryDatasets>> = [];
      try {
        refs = await butler.registry.queryDatasets(t, { collections: [run] });
      } catch {
        continue; // type not registered
      }
      for (const r of refs) {
        const { visit, patch } = r.dataId;
        const k = `${t} ${visit ?? '-'} ${patch}`;
        if (out.has(k)) throw new Error(`duplicate ${k}`);
        const v = (await butler.get(r)) as Record<string, unknown>;
        out.set(k, { ...v, backend: undefined });
      }
    }
    return out;
  } finally {
    await butler.close();
  }
}

/** Number of registered datasets of every type in a run (metadata, logs, configs included). */
export async function countRun(repo: string, run: string): Promise<number> {
  const butler = await Butler.open(repo);
  try {
    return (await butler.registry.queryDatasets('*', { collections: [run] })).length;
  } finally {
    await butler.close();
  }
}

/** The repository's leftovers (orphan and temporary files) and missing files. */
export async function leftovers(
  repo: string,
): Promise<{ orphans: number; temp: number; missing: number }> {
  const butler = await Butler.open(repo);
  try {
    const r = await butler.check({ tempMinAgeMs: 0 });
    return { orphans: r.orphans.length, temp: r.tempFiles.length, missing: r.missing.length };
  } finally {
    await butler.close();
  }
}

/** Path of the graph file in a folder. */
export const graphIn = (dir: string, name: string) => join(dir, `${name}.qg`);
