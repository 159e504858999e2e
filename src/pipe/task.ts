/**
 * PipelineTask: a unit of processing with declared connections, a zod config, a pure `run()` and
 * a `runQuantum()` that does the I/O for one quantum (one data ID) through a
 * {@link QuantumContext}.
 *
 * A task class carries three statics: `_DefaultName` (the default label), `ConfigSchema` (a zod
 * object schema with defaults) and `connections` (from `defineConnections`). Its constructor
 * takes {@link PipelineTaskOptions}; the base class resolves the connections against the config
 * (name overrides, templates, the adjust hook) and validates them.
 *
 * The default `runQuantum` reads every input and prerequisite through the context (a list for a
 * `multiple` connection, a {@link DeferredDatasetHandle} for a `deferLoad` one), enforces each
 * connection's `minimum` (too few regular inputs -> {@link NoWorkFound}), calls `run`, and puts
 * every output. It records timings and counts in `task.metadata` under the `quantum` scope.
 *
 * The executor (written elsewhere) implements {@link QuantumContext} over a Butler or a
 * quantum-backed butler, makes one task per quantum (or calls {@link PipelineTask.resetMetadata}),
 * and writes the automatic `<label>_metadata` and `<label>_log` outputs from `task.metadata` and
 * the log's records.
 */

import type { DataId, DatasetRef } from '../butler/refs.ts';
import type { Backend } from '../compute/select.ts';
import {
  type AnyConfigSchema,
  type ConfigOverride,
  resolveConfig,
  type TaskConfig,
} from './config.ts';
import {
  type ConnectionsDefinition,
  type DimensionClosure,
  type ResolvedConnections,
  resolveConnections,
} from './connections.ts';
import { InvalidQuantumError, NoWorkFound } from './errors.ts';
import { ButlerLogRecords, type TaskLogger } from './log.ts';
import { startTiming, TaskMetadata } from './metadata.ts';

/** Options of a dataset read. */
export interface GetOptions {
  /**
   * Storage-class read parameters, e.g. `{ bbox }` for a sub-image; the datastore's formatter
   * decides which it understands.
   */
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** A handle to a dataset that is read only when (and as often as) the task asks. */
export interface DeferredDatasetHandle<T = unknown> {
  /** The dataset. */
  readonly ref: DatasetRef;
  /** Reads the dataset (or the part selected by `parameters`). */
  get(options?: GetOptions): Promise<T>;
}

/** Phases of the default `runQuantum`. */
export type QuantumPhase = 'prep' | 'run' | 'put';

/** Optional callbacks the executor gives to observe a quantum's phases. */
export interface QuantumTimingHooks {
  /** A phase starts; `utc` is an ISO 8601 timestamp. */
  phaseStarted?(phase: QuantumPhase, utc: string): void;
  /** A phase ended (also after a throw); `seconds` is its wall time. */
  phaseEnded?(phase: QuantumPhase, seconds: number): void;
}

/**
 * Everything a task may do to the outside world while it runs one quantum. Implemented by the
 * executor over a Butler (or a quantum-backed butler), or by a Map in tests.
 */
export interface QuantumContext {
  /** Data ID of the quantum (the task's dimensions). */
  readonly dataId: DataId;
  /** Logger for the quantum (its records become the `<label>_log` dataset). */
  readonly log: TaskLogger;
  /** Phase callbacks, if the executor wants them. */
  readonly timing?: QuantumTimingHooks;
  /**
   * The compute backend the executor gives its quanta (one per job: `gpu-job` and
   * `pipetask run` make it once), so CCD-level work shares one device; tasks that
   * compute make their own (createBackend, honouring GPU_DRP_BACKEND) when absent.
   */
  readonly backend?: Backend | undefined;
  /** Reads one input dataset. */
  get(ref: DatasetRef, options?: GetOptions): Promise<unknown>;
  /** A handle that reads the dataset later. */
  getDeferred(ref: DatasetRef): DeferredDatasetHandle;
  /** Writes one output dataset. */
  put(value: unknown, ref: DatasetRef): Promise<void>;
}

/** Refs of one quantum by connection field: one ref, or a list for `multiple` connections. */
export type QuantumRefs = Readonly<Record<string, DatasetRef | readonly DatasetRef[]>>;

/** What a task constructor receives. */
export interface PipelineTaskOptions<C = Record<string, unknown>> {
  /** Resolved config (from {@link resolveConfig} or {@link makeTask}). */
  readonly config: TaskConfig<C>;
  /** Label of the task in its pipeline (default: the class's `_DefaultName`). */
  readonly label?: string;
  /** Logger (default: a {@link ButlerLogRecords} named after the label). */
  readonly log?: TaskLogger;
  /** Values of the init-input connections by field. */
  readonly initInputs?: Readonly<Record<string, unknown>>;
  /** Dimension closure for connection validation (e.g. the Butler's DimensionUniverse). */
  readonly universe?: DimensionClosure;
}

/** A PipelineTask class: its constructor and the three statics. */
export interface PipelineTaskClass<T extends PipelineTask = PipelineTask> {
  new (options: PipelineTaskOptions<never>): T;
  /** Default label, e.g. `assembleCoadd`. */
  readonly _DefaultName: string;
  /** Zod object schema of the config (fields with defaults). */
  readonly ConfigSchema: AnyConfigSchema;
  /** The connections definition. */
  readonly connections: ConnectionsDefinition;
  /** Class name (functions have one). */
  readonly name: string;
}

/** True if `value` looks like a {@link PipelineTaskClass} (a subclass of PipelineTask with the statics). */
export function isPipelineTaskClass(value: unknown): value is PipelineTaskClass {
  if (typeof value !== 'function') return false;
  const v = value as unknown as Partial<PipelineTaskClass> & { prototype: unknown };
  return (
    v.prototype instanceof PipelineTask &&
    typeof v._DefaultName === 'string' &&
    typeof v.ConfigSchema === 'object' &&
    v.ConfigSchema !== null &&
    typeof v.connections === 'object' &&
    v.connections !== null
  );
}

/**
 * Base class of pipeline tasks. `C` is the config's value type (`z.output<typeof Schema>`),
 * `I` the inputs `run` receives (by connection field), `O` the outputs it returns.
 */
export abstract class PipelineTask<
  C = Record<string, unknown>,
  I extends object = Record<string, unknown>,
  O extends object = Record<string, unknown>,
> {
  /** Label in the pipeline. */
  readonly label: string;
  /** Frozen config. */
  readonly config: TaskConfig<C>;
  /** Connections resolved against the config. */
  readonly connections: ResolvedConnections;
  /** Logger. */
  readonly log: TaskLogger;
  /** Values of the init-input connections by field. */
  readonly initInputs: Readonly<Record<string, unknown>>;
  private metadataRoot = new TaskMetadata();

  constructor(options: PipelineTaskOptions<C>) {
    const cls: unknown = this.constructor;
    if (!isPipelineTaskClass(cls)) {
      throw new InvalidQuantumError(
        `${this.constructor.name} is not a complete PipelineTask class: declare static _DefaultName, ConfigSchema and connections.`,
      );
    }
    this.label = options.label ?? cls._DefaultName;
    this.config = options.config;
    this.connections = resolveConnections(
      cls.connections,
      options.config as unknown as Parameters<typeof resolveConnections>[1],
      this.label,
      options.universe === undefined ? {} : { universe: options.universe },
    );
    this.log =
      options.log ?? new ButlerLogRecords(`gpu_drp.${this.label}`, { mdc: { LABEL: this.label } });
    this.initInputs = options.initInputs ?? {};
    for (const field of this.connections.initInputs.keys()) {
      if (!(field in this.initInputs)) {
        throw new InvalidQuantumError(
          `task '${this.label}': init-input '${field}' was not given. Pass initInputs.${field} when constructing the task.`,
        );
      }
    }
  }

  /** Metadata of the current quantum (the `<label>_metadata` dataset). */
  get metadata(): TaskMetadata {
    return this.metadataRoot;
  }

  /** Starts fresh metadata (for an executor that reuses one task for several quanta). */
  resetMetadata(): void {
    this.metadataRoot = new TaskMetadata();
  }

  /** The algorithm: inputs by connection field in, outputs by connection field out. No I/O. */
  abstract run(inputs: I): Promise<O>;

  /** Values of the init-output connections by field (written once per task). Default: none. */
  getInitOutputs(): Readonly<Record<string, unknown>> {
    return {};
  }

  /**
   * Runs one quantum: reads inputs through `ctx`, calls {@link run}, puts every output.
   *
   * @throws NoWorkFound when a regular input has fewer datasets than its `minimum`.
   * @throws InvalidQuantumError when refs do not fit the connections (several refs for a
   *   non-multiple connection, a missing non-optional prerequisite, an unknown field) or `run`
   *   returned a missing or wrongly sized output.
   */
  async runQuantum(
    ctx: QuantumContext,
    inputRefs: QuantumRefs,
    outputRefs: QuantumRefs,
  ): Promise<void> {
    this.checkQuantumRefs(inputRefs, outputRefs);
    const md = this.metadata.scope('quantum');
    const endAll = startTiming(md, 'runQuantum');
    try {
      const inputs = await this.phase(ctx, 'prep', () => this.readInputs(ctx, inputRefs));
      const outputs = await this.phase(ctx, 'run', () => this.run(inputs as I));
      await this.phase(ctx, 'put', () => this.writeOutputs(ctx, outputs, outputRefs));
    } finally {
      endAll();
    }
  }

  /** Refs must name this task's connections and point at their dataset types. */
  private checkQuantumRefs(inputRefs: QuantumRefs, outputRefs: QuantumRefs): void {
    const sides = [
      {
        refs: inputRefs,
        what: 'input',
        conns: new Map<string, { readonly name: string }>([
          ...this.connections.inputs,
          ...this.connections.prerequisiteInputs,
        ]),
      },
      {
        refs: outputRefs,
        what: 'output',
        conns: new Map<string, { readonly name: string }>(this.connections.outputs),
      },
    ];
    for (const { refs, what, conns } of sides) {
      for (const [field, raw] of Object.entries(refs)) {
        if (field.startsWith('_')) continue;
        const c = conns.get(field);
        if (c === undefined) {
          throw new InvalidQuantumError(
            `task '${this.label}': ${what} refs name '${field}', which is not an ${what} connection (known: ${[...conns.keys()].join(', ') || 'none'}). The quantum does not match the task's connections; rebuild the graph.`,
          );
        }
        for (const ref of isRefList(raw) ? raw : [raw]) {
          if (ref.datasetType.name !== c.name) {
            throw new InvalidQuantumError(
              `task '${this.label}': ${what} connection '${field}' expects dataset type '${c.name}' but got a ref to '${ref.datasetType.name}'. Rebuild the graph with the current configs.`,
            );
          }
        }
      }
    }
  }

  private async phase<T>(
    ctx: QuantumContext,
    phase: QuantumPhase,
    fn: () => Promise<T>,
  ): Promise<T> {
    const md = this.metadata.scope('quantum');
    const end = startTiming(md, phase);
    ctx.timing?.phaseStarted?.(phase, md.get(`${phase}StartUtc`) as string);
    try {
      return await fn();
    } finally {
      end();
      ctx.timing?.phaseEnded?.(phase, md.get(`${phase}WallTime`) as number);
    }
  }

  private async readInputs(
    ctx: QuantumContext,
    refs: QuantumRefs,
  ): Promise<Record<string, unknown>> {
    const md = this.metadata.scope('quantum');
    const inputs: Record<string, unknown> = {};
    let read = 0;
    let deferred = 0;
    const connections = [
      ...this.connections.inputs.values(),
      ...this.connections.prerequisiteInputs.values(),
    ];
    for (const c of connections) {
      const raw = refs[c.field];
      const list: readonly DatasetRef[] = raw === undefined ? [] : isRefList(raw) ? raw : [raw];
      if (!c.multiple && list.length > 1) {
        throw new InvalidQuantumError(
          `task '${this.label}': ${list.length} datasets for non-multiple connection '${c.field}' (${c.name}) in quantum ${formatDataId(ctx.dataId)}. Set multiple: true on the connection or fix the graph.`,
        );
      }
      if (list.length < c.minimum) {
        if (c.kind === 'input') {
          throw new NoWorkFound(
            `task '${this.label}': connection '${c.field}' (${c.name}) has ${list.length} dataset(s), fewer than its minimum ${c.minimum}, in quantum ${formatDataId(ctx.dataId)}; nothing to do.`,
          );
        }
        throw new InvalidQuantumError(
          `task '${this.label}': prerequisite '${c.field}' (${c.name}) has ${list.length} dataset(s), fewer than its minimum ${c.minimum}, in quantum ${formatDataId(ctx.dataId)}. Ingest or certify the missing ${c.name}, or make the prerequisite optional.`,
        );
      }
      const values: unknown[] = [];
      for (const ref of list) {
        if (c.deferLoad) {
          values.push(ctx.getDeferred(ref));
          deferred++;
        } else {
          values.push(await ctx.get(ref));
          read++;
        }
      }
      inputs[c.field] = c.multiple ? values : (values[0] ?? null);
    }
    md.set('inputCount', read);
    md.set('deferredInputCount', deferred);
    return inputs;
  }

  private async writeOutputs(ctx: QuantumContext, outputs: O, refs: QuantumRefs): Promise<void> {
    const md = this.metadata.scope('quantum');
    if (typeof outputs !== 'object' || outputs === null) {
      throw new InvalidQuantumError(
        `task '${this.label}': run() returned ${String(outputs)}; it must return an object with one entry per output connection.`,
      );
    }
    const values = outputs as Record<string, unknown>;
    let written = 0;
    for (const c of this.connections.outputs.values()) {
      const raw = refs[c.field];
      if (raw === undefined) continue;
      const list: readonly DatasetRef[] = isRefList(raw) ? raw : [raw];
      if (list.length === 0) continue;
      if (!(c.field in values) || values[c.field] === undefined) {
        throw new InvalidQuantumError(
          `task '${this.label}': run() returned no '${c.field}' output (${c.name}) but the quantum expects it. Return it, or drop the connection in adjust() when the config disables it.`,
        );
      }
      const value = values[c.field];
      if (c.multiple) {
        if (!Array.isArray(value) || value.length !== list.length) {
          throw new InvalidQuantumError(
            `task '${this.label}': output '${c.field}' is multiple with ${list.length} ref(s); run() must return an array of that length (got ${Array.isArray(value) ? `length ${value.length}` : typeof value}).`,
          );
        }
        for (let i = 0; i < list.length; i++) {
          await ctx.put(value[i], list[i]!);
          written++;
        }
      } else {
        if (list.length !== 1) {
          throw new InvalidQuantumError(
            `task '${this.label}': ${list.length} refs for non-multiple output '${c.field}' (${c.name}). Fix the graph.`,
          );
        }
        await ctx.put(value, list[0]!);
        written++;
      }
    }
    md.set('outputCount', written);
  }
}

function isRefList(v: DatasetRef | readonly DatasetRef[]): v is readonly DatasetRef[] {
  return Array.isArray(v);
}

/** `{instrument: 'SimCam', visit: 12}` -> `{instrument: 'SimCam', visit: 12}` for messages. */
export function formatDataId(dataId: DataId): string {
  const parts = Object.entries(dataId).map(
    ([k, v]) => `${k}: ${typeof v === 'string' ? `'${v}'` : v}`,
  );
  return `{${parts.join(', ')}}`;
}

/**
 * Constructs a task with its config resolved from the class's schema and `overrides`, or
 * with a given resolved `config`.
 *
 * @throws ConfigError for bad overrides, InvalidConnectionsError for bad connections.
 */
export function makeTask<T extends PipelineTask>(
  cls: PipelineTaskClass<T>,
  options: {
    readonly label?: string;
    readonly overrides?: readonly ConfigOverride[];
    readonly config?: TaskConfig;
    readonly log?: TaskLogger;
    readonly initInputs?: Readonly<Record<string, unknown>>;
    readonly universe?: DimensionClosure;
  } = {},
): T {
  const label = options.label ?? cls._DefaultName;
  const config =
    options.config ??
    resolveConfig(cls.ConfigSchema, cls.connections, options.overrides ?? [], { label });
  return new cls({
    config: config as TaskConfig<never>,
    label,
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.initInputs === undefined ? {} : { initInputs: options.initInputs }),
    ...(options.universe === undefined ? {} : { universe: options.universe }),
  });
}
