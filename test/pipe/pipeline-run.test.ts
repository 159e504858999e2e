/**
 * Runs a whole pipeline graph over an in-memory store, the way an executor would: tasks in
 * topological order, one quantum per data ID of the task's dimensions, inputs matched on those
 * dimensions, automatic `_config`/`_metadata`/`_log` datasets written. Checks that the pieces
 * (YAML, configs, connections, graph, runQuantum) fit together with real values.
 */

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { DataId, DatasetRef } from '../../src/butler/refs.ts';
import {
  ButlerLogRecords,
  classifyQuantumError,
  configToJson,
  datasetTypeOf,
  makeTask,
  type NoWorkFound,
  Pipeline,
  type PipelineGraph,
  parseConfigJson,
  parseConfigOption,
  type QuantumRefs,
  TaskMetadata,
} from '../../src/pipe/index.ts';
import { MemoryQuantumContext, MemoryStore, makeRef } from './memory-context.ts';
// Registers the gpu_drp.test.* task names the pipeline files use.
import './test-tasks.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'pipelines');

function project(dataId: DataId, dims: readonly string[]): DataId {
  return Object.fromEntries(dims.map((d) => [d, dataId[d]!]));
}
const key = (dataId: DataId) => JSON.stringify(Object.entries(dataId).sort());

interface RunResult {
  readonly refs: Map<string, DatasetRef[]>;
  readonly noWork: string[];
}

async function runGraph(
  graph: PipelineGraph,
  store: MemoryStore,
  refs: Map<string, DatasetRef[]>,
): Promise<RunResult> {
  const noWork: string[] = [];
  const initValues = new Map<string, unknown>();
  for (const label of graph.order) {
    const node = graph.task(label);
    const initInputs: Record<string, unknown> = {};
    for (const c of node.connections.initInputs.values())
      initInputs[c.field] = initValues.get(c.name);
    const probe = makeTask(node.taskClass, { config: node.config, label, initInputs });
    // init-outputs: the config and what the task declares
    store.add(datasetTypeOf(node.automatic.config), {}, configToJson(node.config));
    for (const [field, value] of Object.entries(probe.getInitOutputs())) {
      initValues.set(node.connections.initOutputs.get(field)!.name, value);
    }
    // quanta: data IDs of the task's dimensions found among its regular inputs
    const quanta = new Map<string, DataId>();
    for (const c of node.connections.inputs.values()) {
      for (const r of refs.get(c.name) ?? []) {
        const q = project(r.dataId, node.dimensions);
        quanta.set(key(q), q);
      }
    }
    for (const dataId of quanta.values()) {
      const task = makeTask(node.taskClass, { config: node.config, label, initInputs });
      const inputRefs: Record<string, DatasetRef | DatasetRef[]> = {};
      for (const c of [
        ...node.connections.inputs.values(),
        ...node.connections.prerequisiteInputs.values(),
      ]) {
        const matching = (refs.get(c.name) ?? []).filter((r) =>
          node.dimensions.every((d) => !(d in r.dataId) || r.dataId[d] === dataId[d]),
        );
        if (c.multiple) inputRefs[c.field] = matching;
        else if (matching[0] !== undefined) inputRefs[c.field] = matching[0];
      }
      const outputRefs: Record<string, DatasetRef> = {};
      for (const c of node.connections.outputs.values()) {
        outputRefs[c.field] = makeRef(datasetTypeOf(c), project(dataId, c.dimensions));
      }
      const ctx = new MemoryQuantumContext(store, dataId);
      try {
        await task.runQuantum(ctx, inputRefs as QuantumRefs, outputRefs);
        for (const [field, ref] of Object.entries(outputRefs)) {
          if (store.values.has(ref.id))
            refs.set(ref.datasetType.name, [...(refs.get(ref.datasetType.name) ?? []), ref]);
          else throw new Error(`output ${field} was not written`);
        }
      } catch (err) {
        if (classifyQuantumError(err).outcome !== 'no-work') throw err;
        noWork.push(`${label}:${key(dataId)}`);
        ctx.log.info((err as NoWorkFound).message);
      }
      const md = makeRef(datasetTypeOf(node.automatic.metadata), dataId);
      await ctx.put(JSON.stringify(task.metadata), md);
      refs.set(md.datasetType.name, [...(refs.get(md.datasetType.name) ?? []), md]);
      await ctx.put(ctx.log.toJsonLines(), makeRef(datasetTypeOf(node.automatic.log), dataId));
    }
  }
  return { refs, noWork };
}

function inputs(
  graph: PipelineGraph,
  store: MemoryStore,
  visits: number[],
): Map<string, DatasetRef[]> {
  const refs = new Map<string, DatasetRef[]>();
  for (const name of ['numberA', 'numberB']) {
    const dt = graph.datasetType(name);
    refs.set(
      name,
      visits.map((v) =>
        store.add(dt, { instrument: 'SimCam', visit: v }, name === 'numberA' ? v : 10 * v),
      ),
    );
  }
  return refs;
}

describe('running a pipeline graph in memory', () => {
  it('produces the expected values through every task', async () => {
    const p = Pipeline.fromFile(join(dir, 'base.yaml'));
    await p.importTasks();
    const graph = p.toGraph({ overrides: [parseConfigOption('scale:factor=10')] });
    const store = new MemoryStore();
    const { refs, noWork } = await runGraph(graph, store, inputs(graph, store, [1, 2, 3]));
    expect(noWork).toEqual([]);
    const value = (name: string) => refs.get(name)!.map((r) => store.values.get(r.id));
    // sum per visit = (v + 10 v) * scale(2); gather SUMs them; scale multiplies by 10
    expect(value('visitSum')).toEqual([22, 44, 66]);
    expect(value('instrumentTotal')).toEqual([132]);
    expect(value('instrumentCount')).toEqual([3]);
    expect(value('scaledTotal')).toEqual([1320]);
    // metadata per quantum: three for add, one each for gather and scale
    expect(refs.get('add_metadata')!.length).toBe(3);
    const md = TaskMetadata.fromDict(
      JSON.parse(store.values.get(refs.get('gather_metadata')![0]!.id) as string),
    );
    expect(md.get('gather.nInputs')).toBe(3);
    expect(md.get('quantum.inputCount')).toBe(3);
    expect(Date.parse(md.get('quantum.runQuantumEndUtc') as string)).toBeGreaterThanOrEqual(
      Date.parse(md.get('quantum.runQuantumStartUtc') as string),
    );
    // the <label>_config datasets read back into the same configs
    const configs = [...store.values.values()].filter(
      (v): v is string => typeof v === 'string' && v.includes('"connections"'),
    );
    expect(configs.length).toBe(3);
    const gatherNode = graph.task('gather');
    const gatherJson = configs.find((c) => c.includes('"statistic"'))!;
    expect(
      parseConfigJson(
        gatherJson,
        gatherNode.taskClass.ConfigSchema,
        gatherNode.taskClass.connections,
      ),
    ).toEqual(gatherNode.config);
  });

  it('skips quanta with too few inputs (NoWorkFound) and their downstream work', async () => {
    const p = Pipeline.fromFile(join(dir, 'base.yaml'));
    await p.importTasks();
    const graph = p.toGraph();
    const store = new MemoryStore();
    const { refs, noWork } = await runGraph(graph, store, inputs(graph, store, [5]));
    // gather needs at least two visit sums
    expect(noWork).toEqual([`gather:${key({ instrument: 'SimCam' })}`]);
    expect(refs.has('instrumentTotal')).toBe(false);
    expect(refs.has('scaledTotal')).toBe(false);
    expect(refs.get('gather_metadata')!.length).toBe(1);
    const logs = [...store.values.values()].filter(
      (v): v is string => typeof v === 'string' && v.includes('"levelname"'),
    );
    const gatherLog = logs
      .map((l) => ButlerLogRecords.parseJsonLines(l))
      .find((r) => r.some((x) => x.message.includes('fewer than its minimum 2')));
    expect(gatherLog).toBeDefined();
  });
});
