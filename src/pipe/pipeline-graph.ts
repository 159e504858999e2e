/**
 * PipelineGraph: the tasks of a pipeline with resolved configs and connections, the dataset
 * types they read and write, producer -> consumer edges, and a topological order.
 *
 * Built by `Pipeline.toGraph()`. Construction checks that:
 * - every dataset type has one definition (same storage class, same dimensions, same
 *   init/per-quantum kind, same calibration flag) across all producers and consumers; a
 *   disagreement is a {@link DatasetTypeConflictError} naming both tasks;
 * - each dataset type has at most one producer;
 * - a prerequisite input is never produced by the pipeline and is never a regular input of
 *   another task (prerequisites are looked up differently);
 * - the task graph is acyclic ({@link PipelineCycleError} names the cycle);
 * - steps (when declared) cover every task once, run in an order where no step consumes what a
 *   later step produces, and have sharding dimensions within each of their tasks' dimensions.
 *
 * The automatic `<label>_config` (init-output), `<label>_metadata` and `<label>_log` (outputs)
 * datasets of every task are part of the graph, so other tasks may consume them.
 */

import type { DatasetType } from '../butler/refs.ts';
import type { TaskConfig } from './config.ts';
import {
  type AutomaticConnections,
  allConnections,
  automaticConnections,
  type DimensionClosure,
  datasetTypeOf,
  type ResolvedConnection,
  type ResolvedConnections,
} from './connections.ts';
import { DatasetTypeConflictError, PipelineCycleError, PipelineDefinitionError } from './errors.ts';
import type { PipelineTaskClass } from './task.ts';

/** One task of a graph. */
export interface TaskNode {
  /** Label in the pipeline. */
  readonly label: string;
  /** The class string from the pipeline (registered name or module path). */
  readonly taskName: string;
  /** The task class. */
  readonly taskClass: PipelineTaskClass;
  /** The resolved, frozen config. */
  readonly config: TaskConfig;
  /** Connections resolved against the config. */
  readonly connections: ResolvedConnections;
  /** Quantum dimensions (after the adjust hook). */
  readonly dimensions: readonly string[];
  /** The automatic `_config`, `_metadata` and `_log` connections. */
  readonly automatic: AutomaticConnections;
}

/** A reference to a connection of a task. */
export interface ConnectionRef {
  /** Task label. */
  readonly label: string;
  /** Connection field (`_config`, `_metadata`, `_log` for the automatic ones). */
  readonly field: string;
  /** Connection kind. */
  readonly kind: ResolvedConnection['kind'];
}

/** A dataset type of a graph with its producer and consumers. */
export interface DatasetTypeNode extends DatasetType {
  /** True for init-datasets (written once per task: configs, schemas). */
  readonly isInit: boolean;
  /** True if consumers read it as a prerequisite input. */
  readonly isPrerequisite: boolean;
  /** The producing connection, or null for an overall input. */
  readonly producer: ConnectionRef | null;
  /** The consuming connections, in task order. */
  readonly consumers: readonly ConnectionRef[];
}

/** An edge between two tasks through a dataset type. */
export interface GraphEdge {
  /** Producing task label. */
  readonly producer: string;
  /** Consuming task label. */
  readonly consumer: string;
  /** Dataset type name. */
  readonly datasetType: string;
}

/** A labelled subset of tasks. */
export interface GraphSubset {
  /** Subset label. */
  readonly label: string;
  /** Task labels. */
  readonly tasks: readonly string[];
  /** What the subset is for, or null. */
  readonly description: string | null;
}

/** A step: a subset run as one unit, sharded by `dimensions` (e.g. step3 by tract). */
export interface GraphStep {
  /** The subset label. */
  readonly label: string;
  /** Sharding dimensions. */
  readonly dimensions: readonly string[];
}

/** What a graph is built from besides the tasks. */
export interface PipelineGraphOptions {
  readonly description?: string;
  readonly instrument?: string | null;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly subsets?: readonly GraphSubset[];
  readonly steps?: readonly GraphStep[];
  readonly universe?: DimensionClosure;
}

interface MutableDatasetTypeNode {
  name: string;
  dimensions: readonly string[];
  storageClass: string;
  isCalibration: boolean;
  isInit: boolean;
  isPrerequisite: boolean;
  producer: ConnectionRef | null;
  consumers: ConnectionRef[];
  definedBy: string;
  regularConsumer: string | null;
  prerequisiteConsumer: string | null;
}

/** A checked pipeline graph (see the module comment). Immutable. */
export class PipelineGraph {
  /** Pipeline description. */
  readonly description: string;
  /** Instrument class string, or null. */
  readonly instrument: string | null;
  /** Pipeline parameters after overrides. */
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Tasks by label, in topological order. */
  readonly tasks: ReadonlyMap<string, TaskNode>;
  /** Dataset types by name, in the order first met walking tasks in topological order. */
  readonly datasetTypes: ReadonlyMap<string, DatasetTypeNode>;
  /** Producer -> consumer edges, one per (producer, consumer, dataset type). */
  readonly edges: readonly GraphEdge[];
  /** Task labels in a topological order (steps first by step order, then declaration order). */
  readonly order: readonly string[];
  /** Labelled subsets. */
  readonly subsets: ReadonlyMap<string, GraphSubset>;
  /** Steps, in order. */
  readonly steps: readonly GraphStep[];

  /**
   * Builds and checks the graph; `tasks` come in pipeline declaration order.
   *
   * @throws DatasetTypeConflictError, PipelineCycleError, PipelineDefinitionError (steps).
   */
  constructor(tasks: readonly TaskNode[], options: PipelineGraphOptions = {}) {
    this.description = options.description ?? '';
    this.instrument = options.instrument ?? null;
    this.parameters = Object.freeze({ ...(options.parameters ?? {}) });
    this.subsets = new Map((options.subsets ?? []).map((s) => [s.label, s]));
    this.steps = Object.freeze([...(options.steps ?? [])]);
    const universe = options.universe;
    const byLabel = new Map(tasks.map((t) => [t.label, t]));
    const nodes = new Map<string, MutableDatasetTypeNode>();
    const sameDims = (a: readonly string[], b: readonly string[]): boolean => {
      const ca = new Set(universe ? universe.closure(a) : a);
      const cb = new Set(universe ? universe.closure(b) : b);
      return ca.size === cb.size && [...ca].every((d) => cb.has(d));
    };

    for (const task of tasks) {
      const conns: ResolvedConnection[] = [
        ...allConnections(task.connections),
        task.automatic.config,
        task.automatic.metadata,
        task.automatic.log,
      ];
      for (const c of conns) {
        const dt = datasetTypeOf(c);
        const isInit = c.kind === 'initInput' || c.kind === 'initOutput';
        const ref: ConnectionRef = { label: task.label, field: c.field, kind: c.kind };
        let node = nodes.get(dt.name);
        if (node === undefined) {
          node = {
            name: dt.name,
            dimensions: dt.dimensions,
            storageClass: dt.storageClass,
            isCalibration: dt.isCalibration ?? false,
            isInit,
            isPrerequisite: false,
            producer: null,
            consumers: [],
            definedBy: task.label,
            regularConsumer: null,
            prerequisiteConsumer: null,
          };
          nodes.set(dt.name, node);
        } else {
          const pair: [string, string] = [node.definedBy, task.label];
          if (node.isInit !== isInit) {
            throw new DatasetTypeConflictError(
              dt.name,
              pair,
              `it is an init-dataset in one task and a per-quantum dataset in the other`,
            );
          }
          if (node.storageClass !== dt.storageClass) {
            throw new DatasetTypeConflictError(
              dt.name,
              pair,
              `storage classes differ: '${node.storageClass}' vs '${dt.storageClass}'`,
            );
          }
          if (!sameDims(node.dimensions, dt.dimensions)) {
            throw new DatasetTypeConflictError(
              dt.name,
              pair,
              `dimensions differ: [${node.dimensions.join(', ')}] vs [${dt.dimensions.join(', ')}]`,
            );
          }
          if (node.isCalibration !== (dt.isCalibration ?? false)) {
            throw new DatasetTypeConflictError(
              dt.name,
              pair,
              'one task marks it as a calibration, the other does not',
            );
          }
        }
        if (c.kind === 'output' || c.kind === 'initOutput') {
          if (node.producer !== null) {
            throw new DatasetTypeConflictError(
              dt.name,
              [node.producer.label, task.label],
              'it is produced by two tasks',
            );
          }
          node.producer = ref;
        } else {
          node.consumers.push(ref);
          if (c.kind === 'prerequisiteInput') {
            node.isPrerequisite = true;
            node.prerequisiteConsumer ??= task.label;
          } else {
            node.regularConsumer ??= task.label;
          }
        }
      }
    }
    for (const node of nodes.values()) {
      if (node.prerequisiteConsumer !== null && node.producer !== null) {
        throw new DatasetTypeConflictError(
          node.name,
          [node.producer.label, node.prerequisiteConsumer],
          'it is a prerequisite input but the pipeline produces it (prerequisites must exist before the run; make it a regular input)',
        );
      }
      if (node.prerequisiteConsumer !== null && node.regularConsumer !== null) {
        throw new DatasetTypeConflictError(
          node.name,
          [node.prerequisiteConsumer, node.regularConsumer],
          'one task reads it as a prerequisite, the other as a regular input',
        );
      }
    }

    const edges: GraphEdge[] = [];
    const successors = new Map<string, Map<string, string>>(tasks.map((t) => [t.label, new Map()]));
    for (const node of nodes.values()) {
      if (node.producer === null) continue;
      const seen = new Set<string>();
      for (const c of node.consumers) {
        if (seen.has(c.label)) continue;
        seen.add(c.label);
        edges.push({ producer: node.producer.label, consumer: c.label, datasetType: node.name });
        const succ = successors.get(node.producer.label)!;
        if (!succ.has(c.label)) succ.set(c.label, node.name);
      }
    }

    const stepIndex = this.verifySteps(tasks, nodes, universe);
    const order = topologicalOrder(tasks, successors, stepIndex);
    this.order = Object.freeze(order);
    this.tasks = new Map(order.map((l) => [l, byLabel.get(l)!]));
    this.edges = Object.freeze(edges);

    const rank = new Map(order.map((l, i) => [l, i]));
    const sortedNodes = [...nodes.values()].sort(
      (a, b) => firstTouch(a, rank) - firstTouch(b, rank),
    );
    this.datasetTypes = new Map(
      sortedNodes.map((n) => [
        n.name,
        Object.freeze({
          name: n.name,
          dimensions: n.dimensions,
          storageClass: n.storageClass,
          ...(n.isCalibration ? { isCalibration: true } : {}),
          isInit: n.isInit,
          isPrerequisite: n.isPrerequisite,
          producer: n.producer,
          consumers: Object.freeze(
            [...n.consumers].sort((a, b) => rank.get(a.label)! - rank.get(b.label)!),
          ),
        }),
      ]),
    );
  }

  /** Checks steps; returns task label -> step index (empty without steps). */
  private verifySteps(
    tasks: readonly TaskNode[],
    nodes: ReadonlyMap<string, MutableDatasetTypeNode>,
    universe: DimensionClosure | undefined,
  ): Map<string, number> {
    const stepOf = new Map<string, number>();
    if (this.steps.length === 0) return stepOf;
    this.steps.forEach((step, i) => {
      const subset = this.subsets.get(step.label);
      if (subset === undefined) {
        throw new PipelineDefinitionError(
          `step '${step.label}' is not a subset. Declare it under subsets:.`,
        );
      }
      for (const label of subset.tasks) {
        const prev = stepOf.get(label);
        if (prev !== undefined) {
          throw new PipelineDefinitionError(
            `task '${label}' is in steps '${this.steps[prev]!.label}' and '${step.label}'. A task belongs to one step.`,
          );
        }
        stepOf.set(label, i);
      }
    });
    const missing = tasks.filter((t) => !stepOf.has(t.label)).map((t) => t.label);
    if (missing.length > 0) {
      throw new PipelineDefinitionError(
        `no step contains task(s) ${missing.map((l) => `'${l}'`).join(', ')}. Add them to a step's subset (or declare no steps).`,
      );
    }
    for (const node of nodes.values()) {
      if (node.producer === null) continue;
      const ps = stepOf.get(node.producer.label)!;
      for (const c of node.consumers) {
        const cs = stepOf.get(c.label)!;
        if (cs < ps) {
          throw new PipelineDefinitionError(
            `task '${node.producer.label}' in step '${this.steps[ps]!.label}' produces '${node.name}', which task '${c.label}' in the earlier step '${this.steps[cs]!.label}' consumes. Reorder the steps or move the tasks.`,
          );
        }
      }
    }
    const close = (d: readonly string[]): Set<string> =>
      new Set(universe ? universe.closure(d) : d);
    for (const task of tasks) {
      const step = this.steps[stepOf.get(task.label)!]!;
      const taskDims = close(task.dimensions);
      const outside = [...close(step.dimensions)].filter((d) => !taskDims.has(d));
      if (outside.length > 0) {
        throw new PipelineDefinitionError(
          `the sharding dimensions [${step.dimensions.join(', ')}] of step '${step.label}' are not within the dimensions [${task.dimensions.join(', ')}] of its task '${task.label}' (missing ${outside.join(', ')}). Move the task to another step or change the step's dimensions.`,
        );
      }
    }
    return stepOf;
  }

  /** Dataset types consumed (as inputs, prerequisites or init-inputs) and never produced. */
  overallInputs(): DatasetTypeNode[] {
    return [...this.datasetTypes.values()].filter((n) => n.producer === null);
  }

  /** Every dataset type the pipeline produces (including the automatic ones). */
  outputs(): DatasetTypeNode[] {
    return [...this.datasetTypes.values()].filter((n) => n.producer !== null);
  }

  /** Produced dataset types that no task of the pipeline consumes. */
  terminalOutputs(): DatasetTypeNode[] {
    return this.outputs().filter((n) => n.consumers.length === 0);
  }

  /** Init-datasets consumed and never produced. */
  initInputs(): DatasetTypeNode[] {
    return this.overallInputs().filter((n) => n.isInit);
  }

  /** Init-datasets produced (`<label>_config` and schemas). */
  initOutputs(): DatasetTypeNode[] {
    return this.outputs().filter((n) => n.isInit);
  }

  /** The producing task label of a dataset type, or null. @throws PipelineDefinitionError if unknown. */
  producerOf(datasetType: string): string | null {
    return this.datasetType(datasetType).producer?.label ?? null;
  }

  /** Labels of the tasks that consume a dataset type. @throws PipelineDefinitionError if unknown. */
  consumersOf(datasetType: string): string[] {
    return [...new Set(this.datasetType(datasetType).consumers.map((c) => c.label))];
  }

  /** The node of a dataset type. @throws PipelineDefinitionError if the graph has none. */
  datasetType(name: string): DatasetTypeNode {
    const n = this.datasetTypes.get(name);
    if (n === undefined) {
      throw new PipelineDefinitionError(`the pipeline has no dataset type '${name}'.`);
    }
    return n;
  }

  /** The task node of a label. @throws PipelineDefinitionError if unknown. */
  task(label: string): TaskNode {
    const t = this.tasks.get(label);
    if (t === undefined) throw new PipelineDefinitionError(`the pipeline has no task '${label}'.`);
    return t;
  }

  /** Labels of the tasks a task depends on directly. */
  upstreamOf(label: string): string[] {
    return [...new Set(this.edges.filter((e) => e.consumer === label).map((e) => e.producer))];
  }

  /** Labels of the tasks that depend directly on a task. */
  downstreamOf(label: string): string[] {
    return [...new Set(this.edges.filter((e) => e.producer === label).map((e) => e.consumer))];
  }

  /** The step holding a task, or null when no steps are declared. */
  stepOf(label: string): GraphStep | null {
    for (const step of this.steps)
      if (this.subsets.get(step.label)?.tasks.includes(label)) return step;
    return null;
  }
}

/** Builds a task node (resolving the automatic connections). */
export function makeTaskNode(
  label: string,
  taskName: string,
  taskClass: PipelineTaskClass,
  config: TaskConfig,
  connections: ResolvedConnections,
): TaskNode {
  return Object.freeze({
    label,
    taskName,
    taskClass,
    config,
    connections,
    dimensions: connections.dimensions,
    automatic: automaticConnections(label, connections.dimensions),
  });
}

function firstTouch(n: MutableDatasetTypeNode, rank: ReadonlyMap<string, number>): number {
  let r = n.producer === null ? Number.POSITIVE_INFINITY : rank.get(n.producer.label)!;
  for (const c of n.consumers) r = Math.min(r, rank.get(c.label)!);
  return r;
}

/** Kahn's algorithm; ready tasks are taken by (step, declaration order). Cycles are errors. */
function topologicalOrder(
  tasks: readonly TaskNode[],
  successors: ReadonlyMap<string, ReadonlyMap<string, string>>,
  stepOf: ReadonlyMap<string, number>,
): string[] {
  const declared = new Map(tasks.map((t, i) => [t.label, i]));
  const indegree = new Map(tasks.map((t) => [t.label, 0]));
  for (const succ of successors.values()) {
    for (const c of succ.keys()) indegree.set(c, indegree.get(c)! + 1);
  }
  const key = (l: string): [number, number] => [stepOf.get(l) ?? 0, declared.get(l)!];
  const ready = tasks.map((t) => t.label).filter((l) => indegree.get(l) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => {
      const [sa, da] = key(a);
      const [sb, db] = key(b);
      return sa - sb || da - db;
    });
    const l = ready.shift()!;
    order.push(l);
    for (const c of successors.get(l)!.keys()) {
      const d = indegree.get(c)! - 1;
      indegree.set(c, d);
      if (d === 0) ready.push(c);
    }
  }
  if (order.length < tasks.length) {
    const left = new Set(tasks.map((t) => t.label).filter((l) => !order.includes(l)));
    const { cycle, datasets } = findCycle(left, successors, tasks);
    throw new PipelineCycleError(cycle, datasets);
  }
  return order;
}

function findCycle(
  left: ReadonlySet<string>,
  successors: ReadonlyMap<string, ReadonlyMap<string, string>>,
  tasks: readonly TaskNode[],
): { cycle: string[]; datasets: string[] } {
  // Every task Kahn's algorithm left behind still has a predecessor that was left behind too, so
  // walking predecessors within `left` must come back to a task already visited.
  const predecessors = new Map<string, string[]>();
  for (const [p, succ] of successors) {
    if (!left.has(p)) continue;
    for (const c of succ.keys())
      if (left.has(c)) predecessors.set(c, [...(predecessors.get(c) ?? []), p]);
  }
  const start = tasks.find((t) => left.has(t.label))!.label;
  const path: string[] = [];
  const where = new Map<string, number>();
  let cur = start;
  while (!where.has(cur)) {
    where.set(cur, path.length);
    path.push(cur);
    cur = predecessors.get(cur)![0]!;
  }
  // path runs against the edges; the cycle is the part from `cur`'s first visit on, reversed.
  const back = path.slice(where.get(cur)!).reverse();
  // Start the report at the task declared first, so it reads the same on every run.
  const declared = new Map(tasks.map((t, i) => [t.label, i]));
  const first = back.reduce(
    (best, l, i) => (declared.get(l)! < declared.get(back[best]!)! ? i : best),
    0,
  );
  const ring = [...back.slice(first), ...back.slice(0, first)];
  const cycle = [...ring, ring[0]!];
  const datasets = cycle.slice(0, -1).map((l, i) => successors.get(l)!.get(cycle[i + 1]!)!);
  return { cycle, datasets };
}
