/**
 * Executing quanta of a graph against an {@link ExecutionTarget}: the quantum context tasks see,
 * one-quantum execution (skip, leftovers, inputs that really exist, the task's runQuantum, the
 * automatic `<label>_metadata` and `<label>_log`, registration at the end, outcome file), the
 * init-outputs (`<label>_config` and declared ones, once per run) and dataset type registration.
 */

import { hostname } from 'node:os';
import type { Butler } from '../../butler/butler.ts';
import type { ReadParameters } from '../../butler/datastore/index.ts';
import type { DataId, DatasetRef, DatastoreRecord } from '../../butler/refs.ts';
import type { Backend } from '../../compute/select.ts';
import { classifyQuantumError } from '../errors.ts';
import {
  type GraphHeader,
  type Quantum,
  type StoredRef,
  toDatasetRef,
  toStoredRef,
} from '../graph/index.ts';
import { ButlerLogRecords } from '../log.ts';
import type { PipelineGraph, TaskNode } from '../pipeline-graph.ts';
import {
  type DeferredDatasetHandle,
  type GetOptions,
  makeTask,
  type QuantumContext,
  type QuantumRefs,
} from '../task.ts';
import { ExecError } from './errors.ts';
import {
  type QuantumFailure,
  type QuantumOutcome,
  type WrittenOutput,
  writeOutcome,
} from './outcomes.ts';
import type { ExecutionTarget } from './targets.ts';

/**
 * The quantum context of the executors: reads through the datastore records resolved for the
 * quantum, writes through the datastore, and offers the job's compute backend.
 */
export class ExecQuantumContext implements QuantumContext {
  /** What was written, in order. */
  readonly written: { ref: DatasetRef; records: DatastoreRecord[] }[] = [];
  constructor(
    private readonly target: ExecutionTarget,
    readonly dataId: DataId,
    readonly log: ButlerLogRecords,
    private readonly records: ReadonlyMap<string, readonly DatastoreRecord[]>,
    /** The compute backend of the job (one per job), when the executor has one. */
    readonly backend?: Backend,
  ) {}

  async get(ref: DatasetRef, options?: GetOptions): Promise<unknown> {
    const recs = this.records.get(ref.id);
    if (!recs || recs.length === 0) {
      throw new ExecError(
        'EXEC_REPOSITORY',
        `input ${ref.datasetType.name} ${JSON.stringify(ref.dataId)} (${ref.id}) has no stored file`,
      );
    }
    return this.target.datastore.get(recs[0]!, {
      ...(options?.parameters ? { parameters: options.parameters as ReadParameters } : {}),
    });
  }

  getDeferred(ref: DatasetRef): DeferredDatasetHandle {
    return { ref, get: (o?: GetOptions) => this.get(ref, o) };
  }

  async put(value: unknown, ref: DatasetRef): Promise<void> {
    const rec = await this.target.datastore.put(value, ref);
    this.written.push({ ref, records: [rec] });
  }
}

/** Options of an {@link ExecutionSession}. */
export interface SessionOptions {
  /** Where outcome files go (null: none). */
  readonly outcomesDir?: string | null;
  /** The job's compute backend, handed to tasks as `ctx.backend`. */
  readonly backend?: Backend;
}

/** Classification of an error thrown by a quantum, with device loss told apart. */
export function classifyFailure(e: unknown): QuantumFailure {
  const c = classifyQuantumError(e);
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'GPU_DEVICE_LOST' || code === 'GPU_OUT_OF_MEMORY') {
    return { code, message, retryable: true, kind: 'device' };
  }
  const finalCode = c.code === 'UNCLASSIFIED' && typeof code === 'string' ? code : c.code;
  return {
    code: finalCode,
    message,
    retryable: c.retryable,
    kind: c.retryable ? 'transient' : 'permanent',
  };
}

/** Executes quanta of one graph in this process. */
export class ExecutionSession {
  private readonly initValues = new Map<string, Readonly<Record<string, unknown>>>();

  constructor(
    /** The graph header. */
    readonly header: GraphHeader,
    /** The graph's pipeline (task classes and configs). */
    readonly pipeline: PipelineGraph,
    /** Where to read and write. */
    readonly target: ExecutionTarget,
    private readonly o: SessionOptions = {},
  ) {}

  private ref(r: StoredRef): DatasetRef {
    return toDatasetRef(this.header, r);
  }

  /** Reads the init-input values of a task (from its producers' init-outputs or the repository). */
  private async initInputsOf(label: string): Promise<Readonly<Record<string, unknown>>> {
    const cached = this.initValues.get(label);
    if (cached) return cached;
    const values: Record<string, unknown> = {};
    const refs = this.header.initRefs[label]?.inputs ?? {};
    for (const [field, sref] of Object.entries(refs)) {
      const ref = this.ref(sref);
      const recs = await this.target.inputRecords(ref, this.header.initRecords[sref.id]);
      if (recs === null) {
        throw new ExecError(
          'EXEC_REPOSITORY',
          `init-input ${sref.type} of task '${label}' is not stored; run the producing task's init step (pipetask run writes init-outputs first)`,
        );
      }
      values[field] = await this.target.datastore.get(recs[0]!);
    }
    this.initValues.set(label, values);
    return values;
  }

  /**
   * Writes the init-outputs of the given task labels (default: all): `<label>_config` and the
   * task's declared ones, unless stored already (then the stored config must equal this one).
   *
   * @throws ExecError EXEC_INIT_OUTPUT_MISMATCH when a stored config differs.
   */
  async writeInitOutputs(labels: readonly string[] = this.pipeline.order): Promise<number> {
    let written = 0;
    const want = new Set(labels);
    for (const label of this.pipeline.order) {
      if (!want.has(label)) continue;
      const node = this.pipeline.task(label);
      const refs = this.header.initRefs[label]?.outputs ?? {};
      const task = makeTask(node.taskClass, {
        config: node.config,
        label,
        initInputs: await this.initInputsOf(label),
      });
      const values: Record<string, unknown> = { ...task.getInitOutputs() };
      values._config = JSON.parse(JSON.stringify(node.config));
      const items: { ref: DatasetRef; records: DatastoreRecord[] }[] = [];
      for (const [field, sref] of Object.entries(refs)) {
        const ref = this.ref(sref);
        const value = values[field];
        if (await this.target.exists(ref)) {
          if (field === '_config') {
            const recs = await this.target.inputRecords(ref, undefined);
            const stored = recs ? await this.target.datastore.get(recs[0]!) : null;
            if (JSON.stringify(stored) !== JSON.stringify(value)) {
              throw new ExecError(
                'EXEC_INIT_OUTPUT_MISMATCH',
                `the config of task '${label}' stored in run ${ref.run} differs from this run's; use a new output run, or the same config`,
              );
            }
          }
          continue;
        }
        await this.target.prepareOutputs([ref]);
        try {
          items.push({ ref, records: [await this.target.datastore.put(value, ref)] });
        } catch (e) {
          // Another job wrote it at the same moment: fine, the content is the same.
          if ((e as { code?: string }).code !== 'DATASTORE_DATASET_EXISTS') throw e;
        }
        written++;
      }
      await this.target.commit(items);
    }
    return written;
  }

  /** Runs one quantum and returns (and records) its outcome. Never throws for task failures. */
  async execute(q: Quantum): Promise<QuantumOutcome> {
    const node = this.pipeline.task(q.label);
    const startUtc = new Date().toISOString();
    const t0 = performance.now();
    const base = {
      quantumId: q.id,
      label: q.label,
      dataId: q.dataId,
      startUtc,
      host: hostname(),
      pid: process.pid,
      ...(this.o.backend ? { backend: this.o.backend.kind } : {}),
    };
    const metaRef = this.ref(q.outputs._metadata![0]!);
    let outcome: QuantumOutcome;
    if (await this.target.isDone(metaRef)) {
      outcome = {
        ...base,
        status: 'skipped',
        message: 'outputs exist already',
        wallTime: 0,
        outputs: [],
      };
      await this.record(outcome);
      return outcome;
    }
    const log = new ButlerLogRecords(`gpu_drp.${q.label}`, {
      mdc: { LABEL: q.label, RUN: this.header.outputRun, QUANTUM: q.id },
    });
    const records = new Map<string, readonly DatastoreRecord[]>();
    const inputRefs: Record<string, DatasetRef | DatasetRef[]> = {};
    for (const [field, list] of Object.entries(q.inputs)) {
      const present: DatasetRef[] = [];
      for (const sref of list) {
        const ref = this.ref(sref);
        const recs = await this.target.inputRecords(ref, q.records[sref.id]);
        if (recs === null) continue; // an upstream quantum found no work or failed
        records.set(ref.id, recs);
        present.push(ref);
      }
      if (connectionIsMultiple(node, field)) inputRefs[field] = present;
      else if (present[0] !== undefined) inputRefs[field] = present[0];
    }
    const outputRefs: Record<string, DatasetRef | DatasetRef[]> = {};
    const allOutputs: DatasetRef[] = [];
    for (const [field, list] of Object.entries(q.outputs)) {
      const refs = list.map((r) => this.ref(r));
      allOutputs.push(...refs);
      if (field.startsWith('_')) continue;
      outputRefs[field] = connectionIsMultiple(node, field) ? refs : refs[0]!;
    }
    const ctx = new ExecQuantumContext(this.target, q.dataId, log, records, this.o.backend);
    let status: QuantumOutcome['status'] = 'succeeded';
    let error: QuantumFailure | undefined;
    let message: string | undefined;
    let task: ReturnType<typeof makeTask> | null = null;
    log.info(`executing ${q.label} quantum ${q.id} ${JSON.stringify(q.dataId)}`);
    try {
      await this.target.prepareOutputs(allOutputs);
      task = makeTask(node.taskClass, {
        config: node.config,
        label: q.label,
        log,
        initInputs: await this.initInputsOf(q.label),
      });
      await task.runQuantum(ctx, inputRefs as QuantumRefs, outputRefs as QuantumRefs);
    } catch (e) {
      const c = classifyQuantumError(e);
      if (c.outcome === 'no-work') {
        status = 'no-work';
        message = (e as Error).message;
        log.info(`no work: ${message}`);
      } else {
        status = 'failed';
        error = classifyFailure(e);
        log.error(`failed: ${error.message}`, { code: error.code });
      }
    }
    const wallTime = (performance.now() - t0) / 1000;
    let written: WrittenOutput[] = [];
    log.info(`${status} in ${wallTime.toFixed(3)} s`);
    if (status === 'failed') {
      // Nothing of a failed quantum stays: its files would be orphans (never registered).
      for (const w of ctx.written)
        for (const r of w.records) await this.target.datastore.remove(r).catch(() => false);
    } else {
      try {
        const md = task ? task.metadata : null;
        const exec = md?.scope('exec');
        exec?.set('quantumId', q.id);
        exec?.set('startUtc', startUtc);
        exec?.set('wallTime', wallTime);
        exec?.set('host', hostname());
        exec?.set('backend', this.o.backend?.kind ?? null);
        exec?.set('status', status);
        const logRef = this.ref(q.outputs._log![0]!);
        await ctx.put(new Uint8Array(Buffer.from(log.toJsonLines(), 'utf8')), logRef);
        // Metadata last: its presence means the quantum is complete.
        await ctx.put(md ? md.toDict() : { exec: { quantumId: q.id, status } }, metaRef);
        await this.target.commit(ctx.written);
        written = ctx.written.map((w) => ({ ref: toStoredRef(w.ref), records: w.records }));
      } catch (e) {
        for (const w of ctx.written)
          for (const r of w.records) await this.target.datastore.remove(r).catch(() => false);
        status = 'failed';
        error = classifyFailure(e);
      }
    }
    outcome = {
      ...base,
      status,
      ...(error ? { error } : {}),
      ...(message ? { message } : {}),
      wallTime,
      outputs: written,
    };
    await this.record(outcome);
    return outcome;
  }

  /** Writes an outcome file when the session has an outcome folder. */
  async record(outcome: QuantumOutcome): Promise<void> {
    if (this.o.outcomesDir) await writeOutcome(this.o.outcomesDir, outcome);
  }
}

function connectionIsMultiple(node: TaskNode, field: string): boolean {
  const c =
    node.connections.inputs.get(field) ??
    node.connections.prerequisiteInputs.get(field) ??
    node.connections.outputs.get(field);
  return c?.multiple ?? false;
}

/**
 * Registers the graph's dataset types (and checks the definitions of those registered):
 * missing ones are registered with `register`, else an error naming them.
 *
 * @throws ExecError EXEC_MISSING_DATASET_TYPE, EXEC_DATASET_TYPE_CONFLICT
 */
export async function registerDatasetTypes(
  butler: Butler,
  header: GraphHeader,
  register: boolean,
): Promise<string[]> {
  const known = new Map((await butler.registry.queryDatasetTypes()).map((t) => [t.name, t]));
  const missing = [];
  for (const t of Object.values(header.datasetTypes)) {
    const have = known.get(t.name);
    if (have === undefined) {
      missing.push(t);
      continue;
    }
    const same =
      have.storageClass === t.storageClass &&
      butler.registry.universe.closure(have.dimensions).join() ===
        butler.registry.universe.closure(t.dimensions).join();
    if (!same) {
      throw new ExecError(
        'EXEC_DATASET_TYPE_CONFLICT',
        `dataset type ${t.name} is registered as ${have.storageClass} [${have.dimensions.join(', ')}] but the pipeline writes ${t.storageClass} [${t.dimensions.join(', ')}]; rename the pipeline's dataset type (connections.<field>) or use another repository`,
      );
    }
  }
  if (missing.length > 0 && !register) {
    throw new ExecError(
      'EXEC_MISSING_DATASET_TYPE',
      `dataset type(s) ${missing.map((t) => t.name).join(', ')} are not registered; re-run with --register-dataset-types`,
    );
  }
  for (const t of missing) await butler.registerDatasetType(t);
  return missing.map((t) => t.name);
}
