/**
 * Building a quantum graph from a {@link PipelineGraph} by querying the registry.
 *
 * For each task, in topological order, and each of its regular inputs, one `queryDataIds` over
 * the union of the task's and the input's dimensions, constrained by the where-expression (and,
 * for an overall input, by the existence of its datasets in the input collections); the registry
 * joins observation and sky dimensions on region overlap. Each row pairs a quantum data ID with
 * an input data ID; the input is kept when the dataset exists (overall inputs) or is predicted
 * (outputs of upstream quanta). A quantum exists when every regular input has at least
 * `minimum` datasets; otherwise it is pruned, and so are (through the missing predictions) its
 * dependents. Outputs get deterministic ids (UUIDv5 of type + data ID + output run).
 */

import type { DataId, DatasetRef, DatasetType, DatastoreRecord } from '../../butler/refs.ts';
import type { Registry } from '../../butler/registry/index.ts';
import { datasetId, uuid5 } from '../../butler/registry/index.ts';
import { datasetTypeOf, type ResolvedConnection } from '../connections.ts';
import type { PipelineGraph } from '../pipeline-graph.ts';
import { EmptyGraphError, GraphError } from './errors.ts';
import {
  absoluteTaskModule,
  type GraphHeader,
  type Quantum,
  QuantumGraph,
  type StoredRef,
  type TaskInitRefs,
  toStoredRef,
} from './quantum-graph.ts';

/** Options of {@link buildQuantumGraph}. */
export interface BuildGraphOptions {
  /** Collections searched for overall inputs, in order (first match wins). */
  readonly inputCollections: readonly string[];
  /** The output RUN collection (part of every predicted output id). */
  readonly outputRun: string;
  /** The output CHAINED collection, if any (recorded in the header). */
  readonly output?: string | null;
  /** A where-expression constraining every task's data IDs. */
  readonly where?: string;
  /** Values for `:name` in the where-expression. */
  readonly bind?: Readonly<Record<string, unknown>>;
  /** Folder of the pipeline file (to make `./` task module paths absolute). */
  readonly pipelineDir?: string;
  /** Folder other relative task module paths are resolved against (default: the working directory). */
  readonly moduleRoot?: string;
}

type Row = DataId;

/** Canonical key of a data ID restricted to `dims` (values in `dims` order). */
function keyOf(dataId: DataId, dims: readonly string[]): string {
  let s = '';
  for (const d of dims) s += `${JSON.stringify(dataId[d] ?? null)}|`;
  return s;
}

function project(dataId: DataId, dims: readonly string[]): DataId {
  const out: Record<string, string | number> = {};
  for (const d of dims) {
    const v = dataId[d];
    if (v !== undefined) out[d] = v;
  }
  return out;
}

/** The quantum id: UUIDv5 of label, required data ID and output run. */
export function quantumId(label: string, requiredDataId: DataId, run: string): string {
  const keys = Object.keys(requiredDataId).sort();
  return uuid5(
    `quantum|${label}|${keys.map((k) => `${k}=${JSON.stringify(requiredDataId[k])}`).join(';')}|run=${JSON.stringify(run)}`,
  );
}

interface Candidate {
  dataId: DataId;
  inputs: Map<string, Map<string, StoredRef>>;
}

interface Available {
  /** By required-data-ID key. */
  readonly refs: Map<string, StoredRef>;
  /** Producing quantum by dataset id (predicted refs only). */
  readonly producers: Map<string, string>;
  readonly overall: boolean;
}

/**
 * Builds the quantum graph of `pipeline` over the registry's data.
 *
 * @throws EmptyGraphError when no quantum results (with counts of what each step found).
 * @throws GraphError (GRAPH_MISSING_INPUT) for a missing init-input.
 */
export async function buildQuantumGraph(
  registry: Registry,
  pipeline: PipelineGraph,
  o: BuildGraphOptions,
): Promise<QuantumGraph> {
  const universe = registry.universe;
  const run = o.outputRun;
  const collections = [...o.inputCollections];
  const required = (dims: readonly string[]) => universe.requiredOf(dims);
  const closure = (dims: readonly string[]) => universe.closure(dims);
  const datasetTypes: Record<string, DatasetType> = {};
  for (const n of pipeline.datasetTypes.values()) {
    datasetTypes[n.name] = {
      name: n.name,
      dimensions: n.dimensions,
      storageClass: n.storageClass,
      ...(n.isCalibration ? { isCalibration: true } : {}),
    };
  }
  const registered = new Set((await registry.queryDatasetTypes()).map((t) => t.name));
  const available = new Map<string, Available>();
  const recordIds = new Set<string>();

  // Overall (non-init) inputs: every dataset in the input collections, first match per data ID.
  for (const n of pipeline.overallInputs()) {
    if (n.isInit) continue;
    const refs = new Map<string, StoredRef>();
    if (registered.has(n.name) && collections.length > 0) {
      const found = await registry.queryDatasets(n.name, { collections, findFirst: true });
      const req = required(n.dimensions);
      for (const r of found) refs.set(keyOf(r.dataId, req), toStoredRef(r));
    }
    available.set(n.name, { refs, producers: new Map(), overall: true });
  }

  const queryCache = new Map<string, Promise<Row[]>>();
  const query = (dims: readonly string[], datasetName: string | null): Promise<Row[]> => {
    const sorted = universe.sorted(dims);
    const k = `${sorted.join(',')}#${datasetName ?? ''}`;
    let p = queryCache.get(k);
    if (p === undefined) {
      p = registry.queryDataIds(sorted, {
        ...(o.where ? { where: o.where } : {}),
        ...(o.bind ? { bind: o.bind } : {}),
        ...(datasetName !== null ? { datasets: datasetName, collections } : {}),
      });
      queryCache.set(k, p);
    }
    return p;
  };

  const quanta: Quantum[] = [];
  const quantaPerTask: Record<string, number> = {};
  const prunedPerTask: Record<string, number> = {};
  const initRefs: Record<string, TaskInitRefs> = {};
  const initRecords: Record<string, DatastoreRecord[]> = {};
  const initPredicted = new Map<string, StoredRef>();

  for (const label of pipeline.order) {
    const task = pipeline.task(label);
    const tDims = task.dimensions;
    const tReq = required(tDims);
    const tClosure = closure(tDims);
    const regular = [...task.connections.inputs.values()];
    const candidates = new Map<string, Candidate>();
    const counts = new Map<string, Map<string, number>>();

    const addRows = async (c: ResolvedConnection & { dimensions: readonly string[] }) => {
      const av = available.get(c.name);
      const perQuantum = new Map<string, number>();
      counts.set(c.field, perQuantum);
      if (av === undefined || av.refs.size === 0) return;
      const cReq = required(c.dimensions);
      const rows = await query([...tDims, ...c.dimensions], av.overall ? c.name : null);
      for (const row of rows) {
        const ref = av.refs.get(keyOf(row, cReq));
        if (ref === undefined) continue;
        const qk = keyOf(row, tReq);
        let cand = candidates.get(qk);
        if (cand === undefined) {
          cand = { dataId: project(row, tClosure), inputs: new Map() };
          candidates.set(qk, cand);
        }
        let m = cand.inputs.get(c.field);
        if (m === undefined) {
          m = new Map();
          cand.inputs.set(c.field, m);
        }
        if (!m.has(ref.id)) {
          m.set(ref.id, ref);
          perQuantum.set(qk, (perQuantum.get(qk) ?? 0) + 1);
        }
      }
    };

    if (regular.length === 0) {
      for (const row of await query(tDims, null)) {
        candidates.set(keyOf(row, tReq), { dataId: project(row, tClosure), inputs: new Map() });
      }
    }
    for (const c of regular) await addRows(c);

    // Keep the candidates with at least `minimum` datasets of every regular input.
    const kept: [string, Candidate][] = [];
    for (const [qk, cand] of candidates) {
      const ok = regular.every((c) => (counts.get(c.field)?.get(qk) ?? 0) >= c.minimum);
      if (ok) kept.push([qk, cand]);
    }
    prunedPerTask[label] = candidates.size - kept.length;

    // Prerequisites: existing datasets related to the quantum through its dimensions.
    const prereqs = [...task.connections.prerequisiteInputs.values()];
    const prereqRefs = new Map<string, Map<string, StoredRef[]>>();
    for (const c of prereqs) {
      const byQuantum = new Map<string, StoredRef[]>();
      prereqRefs.set(c.field, byQuantum);
      let av = available.get(c.name);
      if (av === undefined) {
        av = { refs: new Map(), producers: new Map(), overall: true };
        available.set(c.name, av);
      }
      if (av.refs.size === 0) continue;
      const cReq = required(c.dimensions);
      const within = cReq.every((d) => tClosure.includes(d));
      if (within) {
        for (const [qk, cand] of kept) {
          const ref = av.refs.get(keyOf(cand.dataId, cReq));
          if (ref) byQuantum.set(qk, [ref]);
        }
      } else {
        const rows = await query([...tDims, ...c.dimensions], c.name);
        for (const row of rows) {
          const ref = av.refs.get(keyOf(row, cReq));
          if (ref === undefined) continue;
          const qk = keyOf(row, tReq);
          const list = byQuantum.get(qk) ?? [];
          if (!list.some((r) => r.id === ref.id)) list.push(ref);
          byQuantum.set(qk, list);
        }
      }
    }

    // Outputs (declared + automatic), predicted with deterministic ids.
    const outConns = [
      ...task.connections.outputs.values(),
      task.automatic.metadata,
      task.automatic.log,
    ] as (ResolvedConnection & { kind: 'output' })[];
    for (const c of outConns) {
      if (!available.has(c.name)) {
        available.set(c.name, { refs: new Map(), producers: new Map(), overall: false });
      }
    }
    kept.sort((a, b) => compareDataIds(a[1].dataId, b[1].dataId, tReq));
    for (const [qk, cand] of kept) {
      const reqId = project(cand.dataId, tReq);
      const id = quantumId(label, reqId, run);
      const inputs: Record<string, StoredRef[]> = {};
      const records: Record<string, DatastoreRecord[]> = {};
      const upstream = new Set<string>();
      for (const c of regular) {
        const list = [...(cand.inputs.get(c.field)?.values() ?? [])];
        list.sort((a, b) => compareDataIds(a.dataId, b.dataId, required(c.dimensions)));
        inputs[c.field] = list;
        const av = available.get(c.name)!;
        for (const r of list) {
          const p = av.producers.get(r.id);
          if (p !== undefined) upstream.add(p);
          else recordIds.add(r.id);
        }
      }
      for (const c of prereqs) {
        const list = prereqRefs.get(c.field)?.get(qk) ?? [];
        inputs[c.field] = list;
        for (const r of list) recordIds.add(r.id);
      }
      const outputs: Record<string, StoredRef[]> = {};
      for (const c of outConns) {
        const cReq = required(c.dimensions);
        const dataId = project(cand.dataId, closure(c.dimensions));
        const ref: StoredRef = {
          id: datasetId('DATAID_TYPE_RUN', c.name, project(dataId, cReq), run),
          type: c.name,
          dataId,
          run,
        };
        outputs[c.field] = [ref];
        const av = available.get(c.name)!;
        av.refs.set(keyOf(dataId, cReq), ref);
        av.producers.set(ref.id, id);
      }
      quanta.push({
        id,
        label,
        dataId: cand.dataId,
        inputs,
        outputs,
        records,
        upstream: [...upstream],
      });
    }
    quantaPerTask[label] = kept.length;

    // Init refs: the task's init-outputs (with `_config`), its init-inputs from producers or the repository.
    const outputsInit: Record<string, StoredRef> = {};
    for (const c of [...task.connections.initOutputs.values(), task.automatic.config]) {
      const ref: StoredRef = {
        id: datasetId('DATAID_TYPE_RUN', c.name, {}, run),
        type: c.name,
        dataId: {},
        run,
      };
      outputsInit[c.field] = ref;
      initPredicted.set(c.name, ref);
    }
    const inputsInit: Record<string, StoredRef> = {};
    for (const c of task.connections.initInputs.values()) {
      const predicted = initPredicted.get(c.name);
      if (predicted) {
        inputsInit[c.field] = predicted;
        continue;
      }
      const found = registered.has(c.name)
        ? await registry.findDataset(c.name, {}, { collections })
        : null;
      if (found === null) {
        throw new GraphError(
          'GRAPH_MISSING_INPUT',
          `task '${label}' needs init-input '${c.name}', which is neither produced by the pipeline nor in collections ${collections.join(', ')}. Add the producing task or put the dataset in an input collection.`,
        );
      }
      inputsInit[c.field] = toStoredRef(found);
      initRecords[found.id] = await registry.getDatastoreRecords([found.id]);
      datasetTypes[c.name] = datasetTypeOf(c);
    }
    initRefs[label] = { inputs: inputsInit, outputs: outputsInit };
  }

  if (quanta.length === 0) {
    const found = pipeline
      .overallInputs()
      .filter((n) => !n.isInit)
      .map((n) => `${n.name}: ${available.get(n.name)?.refs.size ?? 0}`)
      .join(', ');
    throw new EmptyGraphError(
      `the pipeline has no quanta for these inputs (datasets found in ${collections.join(', ') || 'no collections'}: ${found || 'none needed'}; where: ${o.where ? `"${o.where}"` : 'none'}). Check -i/--input collections and -d/--data-query.`,
    );
  }

  // Datastore records of the overall inputs, so execution can read them without the registry.
  const ids = [...recordIds];
  const byId = new Map<string, DatastoreRecord[]>();
  for (let i = 0; i < ids.length; i += 500) {
    for (const r of await registry.getDatastoreRecords(ids.slice(i, i + 500))) {
      const l = byId.get(r.datasetId) ?? [];
      l.push(r);
      byId.set(r.datasetId, l);
    }
  }
  for (const q of quanta) {
    const recs = q.records as Record<string, DatastoreRecord[]>;
    for (const list of Object.values(q.inputs)) {
      for (const r of list) {
        const found = byId.get(r.id);
        if (found) recs[r.id] = found;
      }
    }
  }

  const header: GraphHeader = {
    format: 'gpu-drp-qgraph',
    version: 1,
    created: new Date().toISOString(),
    universe: { namespace: universe.namespace, version: universe.version },
    inputCollections: collections,
    outputRun: run,
    output: o.output ?? null,
    where: o.where ?? '',
    pipeline: {
      description: pipeline.description,
      instrument: pipeline.instrument,
      parameters: pipeline.parameters,
      tasks: pipeline.order.map((label) => {
        const t = pipeline.task(label);
        return {
          label,
          taskName: t.taskName,
          module: absoluteTaskModule(t.taskName, {
            ...(o.pipelineDir === undefined ? {} : { pipelineDir: o.pipelineDir }),
            ...(o.moduleRoot === undefined ? {} : { moduleRoot: o.moduleRoot }),
          }),
          config: JSON.parse(JSON.stringify(t.config)) as Record<string, unknown>,
        };
      }),
    },
    datasetTypes,
    initRefs,
    initRecords,
    quantaPerTask,
    prunedPerTask,
  };
  return new QuantumGraph(header, quanta);
}

function compareDataIds(a: DataId, b: DataId, dims: readonly string[]): number {
  for (const d of dims) {
    const x = a[d];
    const y = b[d];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/** Refs as {@link DatasetRef}s need the type definitions; re-exported for executors. */
export type { DatasetRef };
