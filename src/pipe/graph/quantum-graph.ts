/**
 * The quantum graph: one node (quantum) per (task label, data ID), with its resolved input refs
 * (existing datasets with their datastore records, or refs predicted for the outputs of upstream
 * quanta), its predicted output refs (deterministic UUIDv5 ids of type + data ID + output run, so
 * re-building and re-running are idempotent), and edges to the quanta that produce its inputs.
 *
 * The graph carries everything needed to execute any quantum without the registry: the pipeline
 * (task classes as importable names plus frozen configs), the dataset type definitions, the
 * init-input and init-output refs, and the datastore records of the overall inputs.
 */

import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { DataId, DatasetRef, DatasetType, DatastoreRecord } from '../../butler/refs.ts';
import { resolveConfig } from '../config.ts';
import type { DimensionClosure } from '../connections.ts';
import { resolveConnections } from '../connections.ts';
import { makeTaskNode, PipelineGraph, type TaskNode } from '../pipeline-graph.ts';
import { isModuleTaskName, resolveTask } from '../task-registry.ts';
import { GraphError } from './errors.ts';

/** A dataset ref as stored in a graph: the dataset type by name. */
export interface StoredRef {
  /** Dataset UUID. */
  readonly id: string;
  /** Dataset type name (its definition is in the graph header). */
  readonly type: string;
  /** Data ID (required + implied values). */
  readonly dataId: DataId;
  /** RUN collection. */
  readonly run: string;
}

/** One quantum: a task run on one data ID. */
export interface Quantum {
  /** Quantum UUID (UUIDv5 of label, data ID and output run: stable across rebuilds). */
  readonly id: string;
  /** Task label. */
  readonly label: string;
  /** Data ID of the task's dimensions (required + implied). */
  readonly dataId: DataId;
  /** Input and prerequisite refs by connection field (always lists here). */
  readonly inputs: Readonly<Record<string, readonly StoredRef[]>>;
  /** Output refs by connection field, including `_metadata` and `_log`. */
  readonly outputs: Readonly<Record<string, readonly StoredRef[]>>;
  /** Datastore records of the inputs that existed when the graph was built, by dataset id. */
  readonly records: Readonly<Record<string, readonly DatastoreRecord[]>>;
  /** Ids of the quanta that produce some of this quantum's inputs. */
  readonly upstream: readonly string[];
}

/** One task of the stored pipeline. */
export interface StoredTask {
  /** Label. */
  readonly label: string;
  /** Class string as in the pipeline (registered name or module path). */
  readonly taskName: string;
  /** An importable form of the class string (absolute module path), or null for registered names. */
  readonly module: string | null;
  /** Frozen config (plain JSON). */
  readonly config: Readonly<Record<string, unknown>>;
}

/** Init-input and init-output refs of one task. */
export interface TaskInitRefs {
  /** Init-inputs by connection field. */
  readonly inputs: Readonly<Record<string, StoredRef>>;
  /** Init-outputs by connection field, including `_config`. */
  readonly outputs: Readonly<Record<string, StoredRef>>;
}

/** Everything of a graph but its quanta. */
export interface GraphHeader {
  /** Format tag. */
  readonly format: 'gpu-drp-qgraph';
  /** Format version. */
  readonly version: 1;
  /** ISO 8601 UTC time of building. */
  readonly created: string;
  /** Universe of the repository the graph was built from. */
  readonly universe: { readonly namespace: string; readonly version: number } | null;
  /** Input collections searched. */
  readonly inputCollections: readonly string[];
  /** The output RUN collection. */
  readonly outputRun: string;
  /** The output CHAINED collection, or null. */
  readonly output: string | null;
  /** The where-expression, or ''. */
  readonly where: string;
  /** The pipeline. */
  readonly pipeline: {
    readonly description: string;
    readonly instrument: string | null;
    readonly parameters: Readonly<Record<string, unknown>>;
    readonly tasks: readonly StoredTask[];
  };
  /** Dataset type definitions by name. */
  readonly datasetTypes: Readonly<Record<string, DatasetType>>;
  /** Init refs by task label. */
  readonly initRefs: Readonly<Record<string, TaskInitRefs>>;
  /** Datastore records of existing init-inputs, by dataset id. */
  readonly initRecords: Readonly<Record<string, readonly DatastoreRecord[]>>;
  /** Number of quanta per task label. */
  readonly quantaPerTask: Readonly<Record<string, number>>;
  /** Quanta dropped for too few inputs per task label (and their dependents). */
  readonly prunedPerTask: Readonly<Record<string, number>>;
}

/** A graph node summary (what scheduling needs). */
export interface GraphNode {
  /** Quantum id. */
  readonly id: string;
  /** Task label. */
  readonly label: string;
  /** Data ID. */
  readonly dataId: DataId;
  /** Upstream quantum ids. */
  readonly upstream: readonly string[];
}

/** A quantum graph held in memory. */
export class QuantumGraph {
  /** Header. */
  readonly header: GraphHeader;
  /** Quanta by id, in execution order (task order, then data ID). */
  readonly quanta: ReadonlyMap<string, Quantum>;

  constructor(header: GraphHeader, quanta: readonly Quantum[]) {
    this.header = header;
    this.quanta = new Map(quanta.map((q) => [q.id, q]));
  }

  /** Number of quanta. */
  get size(): number {
    return this.quanta.size;
  }

  /** Node summaries in execution order. */
  nodes(): GraphNode[] {
    return [...this.quanta.values()].map((q) => ({
      id: q.id,
      label: q.label,
      dataId: q.dataId,
      upstream: q.upstream,
    }));
  }

  /** The quantum with this id. @throws GraphError */
  quantum(id: string): Quantum {
    const q = this.quanta.get(id);
    if (q === undefined) {
      throw new GraphError(
        'GRAPH_UNKNOWN_QUANTUM',
        `quantum ${id} is not in the graph; list the ids with \`pipetask report\` or the graph's nodes`,
      );
    }
    return q;
  }
}

/** A stored ref back to a {@link DatasetRef}. */
export function toDatasetRef(header: GraphHeader, r: StoredRef): DatasetRef {
  const t = header.datasetTypes[r.type];
  if (t === undefined) {
    throw new GraphError(
      'GRAPH_BAD_FILE',
      `the graph has no definition of dataset type '${r.type}'`,
    );
  }
  return { id: r.id, datasetType: t, dataId: r.dataId, run: r.run };
}

/** A {@link DatasetRef} as stored. */
export function toStoredRef(r: DatasetRef): StoredRef {
  return { id: r.id, type: r.datasetType.name, dataId: r.dataId, run: r.run };
}

/**
 * An importable form of a pipeline class string: module paths made absolute (`./` and `../`
 * against `pipelineDir`, others against `moduleRoot` when that file exists); registered names
 * give null.
 */
export function absoluteTaskModule(
  taskName: string,
  o: { readonly pipelineDir?: string; readonly moduleRoot?: string } = {},
): string | null {
  if (!isModuleTaskName(taskName)) return null;
  const hash = taskName.lastIndexOf('#');
  const path = taskName.slice(0, hash);
  const exportName = taskName.slice(hash + 1);
  if (isAbsolute(path)) return taskName;
  const base =
    path.startsWith('./') || path.startsWith('../')
      ? (o.pipelineDir ?? o.moduleRoot ?? process.cwd())
      : (o.moduleRoot ?? process.cwd());
  return `${resolvePath(base, path)}#${exportName}`;
}

/**
 * Rebuilds the pipeline graph stored in a header: imports the task classes, re-validates the
 * frozen configs and resolves connections.
 *
 * @throws GraphError (GRAPH_PIPELINE) when a class cannot be imported or a config is invalid.
 */
export async function loadPipelineGraph(
  header: GraphHeader,
  universe?: DimensionClosure,
): Promise<PipelineGraph> {
  const nodes: TaskNode[] = [];
  for (const t of header.pipeline.tasks) {
    try {
      const cls = await resolveTask(t.module ?? t.taskName);
      const config = resolveConfig(
        cls.ConfigSchema,
        cls.connections,
        [{ kind: 'values', values: { ...t.config }, source: 'quantum graph' }],
        { label: t.label },
      );
      const connections = resolveConnections(
        cls.connections,
        config as unknown as Parameters<typeof resolveConnections>[1],
        t.label,
        universe === undefined ? {} : { universe },
      );
      nodes.push(makeTaskNode(t.label, t.taskName, cls, config, connections));
    } catch (e) {
      throw new GraphError(
        'GRAPH_PIPELINE',
        `cannot rebuild task '${t.label}' (${t.module ?? t.taskName}) of the graph: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  return new PipelineGraph(nodes, {
    description: header.pipeline.description,
    instrument: header.pipeline.instrument,
    parameters: header.pipeline.parameters,
    ...(universe === undefined ? {} : { universe }),
  });
}
